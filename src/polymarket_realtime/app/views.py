"""Result models both surfaces return (MCP ``structuredContent`` and the JSON API): markets and order books.

Prices and sizes are decimal strings (exact), ages are seconds.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from ..model.markets import MarketInfo

__all__ = ["MarketResult", "OrderBookResult", "OutcomeResult", "PriceLevel", "SearchResult", "dec_str"]


def dec_str(value: Decimal | str | int | None) -> str | None:
    """A Decimal as a plain string (no exponent), ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class PriceLevel(BaseModel):
    price: str
    size: str


class OrderBookResult(BaseModel):
    token_id: str
    bids: list[PriceLevel] = Field(description="Best (highest) bid first.")
    asks: list[PriceLevel] = Field(description="Best (lowest) ask first.")
    best_bid: str | None = None
    best_ask: str | None = None
    mid: str | None = None
    spread: str | None = None
    tick_size: str | None = None
    last_trade_price: str | None = None
    source: str = Field(description="'ws' when streamed live, 'rest' for a one-off REST snapshot.")
    age_s: float | None = Field(default=None, description="Seconds since the book was last updated.")
    stale: bool = False


class OutcomeResult(BaseModel):
    name: str
    token_id: str
    price: str | None = Field(default=None, description="Indicative probability 0..1 from Gamma.")


class MarketResult(BaseModel):
    question: str
    slug: str
    condition_id: str
    market_id: str
    end_date: str | None = None
    volume: str | None = Field(default=None, description="Lifetime volume, USDC.")
    liquidity: str | None = Field(default=None, description="Resting liquidity, USDC.")
    active: bool
    closed: bool
    accepting_orders: bool | None = None
    tick_size: str | None = None
    min_order_size: str | None = None
    best_bid: str | None = None
    best_ask: str | None = None
    last_trade_price: str | None = None
    event_slug: str = ""
    winning_outcome: str | None = None
    version: str = Field(default="v1", description="v1, or v2 (Protocol V2: 75-digit outcome ids).")
    not_streamable: str | None = Field(default=None, description="Why it cannot be streamed yet (no outcomes).")
    outcomes: list[OutcomeResult]

    @classmethod
    def from_info(cls, m: MarketInfo) -> MarketResult:
        return cls(
            question=m.question,
            slug=m.slug,
            condition_id=m.condition_id,
            market_id=m.market_id,
            end_date=m.end_date,
            volume=dec_str(m.volume),
            liquidity=dec_str(m.liquidity),
            active=m.active,
            closed=m.closed,
            accepting_orders=m.accepting_orders,
            tick_size=dec_str(m.tick_size),
            min_order_size=dec_str(m.min_order_size),
            best_bid=dec_str(m.best_bid),
            best_ask=dec_str(m.best_ask),
            last_trade_price=dec_str(m.last_trade_price),
            event_slug=m.event_slug,
            winning_outcome=m.winning_outcome,
            version=m.version,
            not_streamable=m.unsupported_reason,
            outcomes=[OutcomeResult(name=o.name, token_id=o.token_id, price=dec_str(o.price)) for o in m.outcomes],
        )


class SearchResult(BaseModel):
    query: str
    count: int
    markets: list[MarketResult]
