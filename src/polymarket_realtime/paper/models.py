"""Pydantic views of paper sessions, orders and fills: what tools return (``structuredContent``).

Money, prices and sizes are exact decimal strings; times are Unix milliseconds.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from .warmup import BookWarmup

__all__ = [
    "BulkStateResult",
    "FillView",
    "OrderResult",
    "OrderView",
    "PositionView",
    "SessionDetail",
    "SessionList",
    "SessionSummary",
    "TokenStatus",
    "dec",
]


def dec(value: Decimal | None) -> str | None:
    """A Decimal as a plain string without exponent or trailing zeros noise; ``None`` stays ``None``."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


class PositionView(BaseModel):
    token_id: str
    size: str = Field(description="Shares held.")
    average_price: str = Field(description="Volume-weighted entry price of the open size (fees excluded).")
    mark: str | None = Field(description="Live mid used to value the position (None if no book yet).")
    market_value: str = Field(description="size * mark (average price when there is no mark).")
    realized_pnl: str
    unrealized_pnl: str


class OrderView(BaseModel):
    order_id: str
    session_id: str
    token_id: str
    side: str
    order_type: str
    size: str
    limit_price: str | None
    filled: str
    remaining: str
    average_fill_price: str | None
    fees: str
    status: str = Field(description="open | filled | partially_filled (remainder cancelled) | cancelled")
    reason: str = Field(description="Why it is cancelled or partially filled, if it is.")
    created_ms: int


class FillView(BaseModel):
    fill_id: str
    order_id: str
    token_id: str
    side: str
    price: str
    size: str
    fee: str
    liquidity: str = Field(description="taker (crossed the book) or maker (resting order was hit)")
    ts_ms: int


class TokenStatus(BaseModel):
    token_id: str
    book: str = Field(description="live | stale | none (no book yet: orders are refused until it arrives)")
    best_bid: str | None
    best_ask: str | None
    mid: str | None
    tick_size: str | None
    min_order_size: str | None
    fees: str = Field(description="Fee model applied to fills of this token.")


class SessionSummary(BaseModel):
    session_id: str
    name: str
    state: str = Field(description="running | paused | halted | stopped")
    state_reason: str
    cash: str
    equity: str = Field(description="cash + positions marked to the live mid.")
    realized_pnl: str
    unrealized_pnl: str
    open_orders: int
    token_ids: list[str]
    created_ms: int = Field(default=0, description="When the session was created, Unix ms.")
    trades: int = Field(default=0, description="Fills made in this session so far.")


class SessionDetail(SessionSummary):
    starting_cash: str
    fees_paid: str
    fee_bps: str | None
    risk: dict[str, str | None] = Field(description="Risk limits (None = no limit).")
    peak_equity: str
    day_start_equity: str
    market_ids: list[str]
    allowed_actions: list[str] = Field(description="State transitions allowed now.")
    positions: list[PositionView]
    orders: list[OrderView] = Field(description="Open (resting) orders.")
    recent_fills: list[FillView] = Field(description="Newest first.")
    tokens: list[TokenStatus]
    warmup: BookWarmup | None = Field(
        default=None,
        description="create_paper_session only: how long it waited for live books and which are ready or warming.",
    )


class SessionList(BaseModel):
    sessions: list[SessionSummary]
    counts: dict[str, int] = Field(description="Sessions per state.")


class OrderResult(BaseModel):
    order: OrderView
    fills: list[FillView] = Field(description="Fills made immediately by this call.")
    session_state: str
    cash: str
    equity: str
    message: str


class BulkStateResult(BaseModel):
    changed: list[str] = Field(description="Session ids whose state changed.")
    skipped: dict[str, str] = Field(description="Session id -> why it was left alone.")
