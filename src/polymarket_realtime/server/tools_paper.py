"""Toolset ``paper``: paper-trading sessions filled from the live order books (never real orders)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.sessions import stop_paper_session as stop_session_and_agents
from ..app.validation import check_market_refs, check_token_id, check_token_ids
from ..paper.models import BulkStateResult, OrderResult, OrderView, SessionDetail, SessionList
from ..paper.service import PaperService
from .annotations import CHANGE as _CHANGE, CREATE as _CREATE, READ_LOCAL as _READ
from .context import app_context

__all__ = ["register"]


SessionId = Annotated[str, Field(description="Paper session id from create_paper_session / list_paper_sessions.")]


def _paper(ctx: Context[Application]) -> PaperService:
    return app_context(ctx).require_paper()


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Create a paper-trading session",
        annotations=_CREATE,
        description=(
            "Start a paper (no real money) session on token ids and/or markets; orders fill against the live book. "
            "risk: max_order_usd, max_position_usd, max_total_exposure_usd reject an order; max_daily_loss_usd, "
            "max_drawdown_pct halt the session. fee_bps: used when the market's fees are unknown. Waits up to 5 s "
            "for live books (warmup: ready/warming per token); then place_paper_order."
        ),
    )
    async def create_paper_session(
        ctx: Context[Application],
        name: Annotated[str, Field(description="A label for the session.")],
        starting_cash: Annotated[Decimal, Field(description="Starting USDC cash, > 0 and <= 10^12.")] = Decimal(1000),
        token_ids: Annotated[list[str], Field(description="Outcome token ids to trade.")] = [],  # noqa: B006
        market_ids: Annotated[list[str], Field(description="Markets (condition id or slug); all outcomes.")] = [],  # noqa: B006
        risk: Annotated[
            dict[str, Any] | None,
            Field(description='Risk limits, e.g. {"max_order_usd": 50, "max_drawdown_pct": 20}.'),
        ] = None,
        fee_bps: Annotated[Decimal | None, Field(description="Fallback fee in basis points of notional.")] = None,
    ) -> SessionDetail:
        tokens = check_token_ids(token_ids)
        markets = check_market_refs(market_ids)
        return await _paper(ctx).create_session(
            name, starting_cash=starting_cash, token_ids=tokens, market_ids=markets, risk=risk, fee_bps=fee_bps
        )

    @mcp.tool(
        title="List paper sessions",
        annotations=_READ,
        description="Every paper session with state, cash, equity (marked to the live mid) and P&L; counts per state. "
        "Details: get_paper_session(session_id).",
    )
    def list_paper_sessions(ctx: Context[Application]) -> SessionList:
        return _paper(ctx).list_sessions()

    @mcp.tool(
        title="Get a paper session",
        annotations=_READ,
        description=(
            "One session in full: cash, equity, positions with average price and realized/unrealized P&L marked to "
            "the live mid, open (resting) orders, recent fills, risk limits, state and why, the allowed state "
            "actions, and each token's live book status. Trade with place_paper_order; wait for fills with "
            "get_activity(wait_s=10)."
        ),
    )
    async def get_paper_session(ctx: Context[Application], session_id: SessionId) -> SessionDetail:
        return await _paper(ctx).get_session(session_id)

    @mcp.tool(
        title="Pause a paper session",
        annotations=_CHANGE,
        description=(
            "Pause a running session: new BUY (exposure-increasing) orders are refused and resting orders stop "
            "filling; SELL (reducing/closing) orders are still accepted. Error if it is not running."
        ),
    )
    async def pause_paper_session(ctx: Context[Application], session_id: SessionId) -> SessionDetail:
        return await _paper(ctx).pause(session_id)

    @mcp.tool(
        title="Resume a paper session",
        annotations=_CHANGE,
        description=(
            "Resume a paused or risk-halted session. A halted session resumes only if its loss limits are no longer "
            "breached (the drawdown window restarts at the current equity; the daily loss limit holds until the UTC "
            "day ends). Error if it is running or stopped."
        ),
    )
    async def resume_paper_session(ctx: Context[Application], session_id: SessionId) -> SessionDetail:
        return await _paper(ctx).resume(session_id)

    @mcp.tool(
        title="Stop a paper session",
        annotations=_CHANGE,
        description="Stop a session for good: resting orders are cancelled, feeds released and its strategy agents "
        "stopped; history stays readable.",
    )
    async def stop_paper_session(ctx: Context[Application], session_id: SessionId) -> SessionDetail:
        return await stop_session_and_agents(app_context(ctx), session_id)

    @mcp.tool(
        title="Pause all paper sessions",
        annotations=_CHANGE,
        description="Pause every running session. Returns which changed and why others were left alone.",
    )
    async def pause_all_sessions(ctx: Context[Application]) -> BulkStateResult:
        return await _paper(ctx).pause_all()

    @mcp.tool(
        title="Resume all paper sessions",
        annotations=_CHANGE,
        description="Resume every paused session (halted sessions need resume_paper_session one by one).",
    )
    async def resume_all_sessions(ctx: Context[Application]) -> BulkStateResult:
        return await _paper(ctx).resume_all()

    @mcp.tool(
        title="Place a paper order",
        annotations=_CHANGE,
        description=(
            "Paper order on a session token. market: walks the live book (partial fill if depth runs out, rest "
            "cancelled). limit: takes what crosses, rests the remainder until the book or a trade crosses it. BUY "
            "is checked against risk limits and cash (refused while paused/halted); SELL only reduces a position "
            "(no shorts: buy the other outcome). Waits up to 3 s for a book still warming, then refuses."
        ),
    )
    async def place_paper_order(
        ctx: Context[Application],
        session_id: SessionId,
        token_id: Annotated[str, Field(description="Outcome token id (one of the session's tokens).")],
        side: Annotated[Literal["BUY", "SELL"], Field(description="BUY to open/increase, SELL to reduce/close.")],
        size: Annotated[Decimal, Field(description="Shares, > 0 and >= the market's minimum order size.")],
        order_type: Annotated[Literal["market", "limit"], Field(description="market or limit.")] = "market",
        limit_price: Annotated[
            Decimal | None, Field(description="Limit orders only: price in (0, 1) on the market's tick.")
        ] = None,
    ) -> OrderResult:
        token = check_token_id(token_id)
        return await _paper(ctx).place_order(session_id, token, side, size, order_type, limit_price)

    @mcp.tool(
        title="Cancel a paper order",
        annotations=_CHANGE,
        description="Cancel a resting (open) limit order. Error if it is filled, cancelled or unknown.",
    )
    async def cancel_paper_order(
        ctx: Context[Application],
        session_id: SessionId,
        order_id: Annotated[str, Field(description="Order id from place_paper_order or get_paper_session.")],
    ) -> OrderView:
        return await _paper(ctx).cancel_order(session_id, order_id)
