"""Toolset ``market``: find markets and read one order book (no subscription needed)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.validation import check_depth, check_limit, check_token_id
from ..errors import InvalidInputError, VenueError
from ..model.book import OrderBook
from .annotations import READ_VENUE as _READ_VENUE
from .context import app_context
from .results import MarketResult, OrderBookResult, PriceLevel, SearchResult

__all__ = ["book_result", "register"]

FRESH_BOOK_MAX_AGE_S = 30.0
"""A streamed book older than this (with no update) is re-fetched over REST by get_order_book."""


def book_result(token_id: str, view: dict[str, Any]) -> OrderBookResult:
    return OrderBookResult(
        token_id=token_id,
        bids=[PriceLevel(**lvl) for lvl in view.get("bids", [])],
        asks=[PriceLevel(**lvl) for lvl in view.get("asks", [])],
        best_bid=view.get("best_bid"),
        best_ask=view.get("best_ask"),
        mid=view.get("mid"),
        spread=view.get("spread"),
        tick_size=view.get("tick_size"),
        last_trade_price=view.get("last_trade_price"),
        source=str(view.get("source") or "ws"),
        age_s=view.get("age_s"),
        stale=bool(view.get("stale", False)),
    )


async def order_book(app: Application, token_id: str, depth: int) -> OrderBookResult:
    """The streamed book when we hold a fresh one, else a one-off REST snapshot (source "rest")."""
    now_ns = app.clock.time_ns()
    book = app.books.get(token_id)
    if book is not None and not book.stale:
        age = book.age_s(now_ns)
        if age is not None and age <= FRESH_BOOK_MAX_AGE_S:
            return book_result(token_id, book.view(depth, now_ns))
    try:
        snapshot = await app.clob.get_book(token_id)
    except VenueError:
        if book is None or not book.updated_recv_ns:
            raise
        # REST is down too: the streamed book flagged stale (with its age) beats no answer.
        return book_result(token_id, book.view(depth, now_ns))
    rest_book = OrderBook(token_id, snapshot.market)
    rest_book.apply_snapshot(snapshot)
    return book_result(token_id, rest_book.view(depth, app.clock.time_ns()))


MAX_MARKET_REF_CHARS = 200
"""Longer than any slug, condition id (66) or token id (78): refused before reaching Gamma."""


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Search Polymarket markets",
        annotations=_READ_VENUE,
        description=(
            "Search Polymarket markets by free text (words from the question, e.g. 'bitcoin 150k', 'fed rate'). "
            "Returns up to `limit` markets with question, slug, condition_id, end_date, volume and liquidity (USDC), "
            "and `outcomes: [{name, token_id, price}]` where price is the 0..1 implied probability. "
            "Use an outcome's token_id with get_order_book or subscribe_market_prices / "
            "subscribe_orderbook_updates; use the slug or condition_id with get_market or in market_ids."
        ),
    )
    async def search_markets(
        ctx: Context[Application],
        query: Annotated[str, Field(description="Free text, e.g. 'election', 'btc above'. An exact slug also works.")],
        limit: Annotated[int, Field(description="Maximum markets to return, 1-50.")] = 10,
        active_only: Annotated[bool, Field(description="Only markets still trading (not closed).")] = True,
    ) -> SearchResult:
        app = app_context(ctx)
        check_limit(limit, maximum=50)
        markets = await app.gamma.search(query, limit=limit, active_only=active_only)
        return SearchResult(query=query, count=len(markets), markets=[MarketResult.from_info(m) for m in markets])

    @mcp.tool(
        title="Get one market",
        annotations=_READ_VENUE,
        description=(
            "Look up one market by slug, condition id (62 or 64 hex), outcome token id (decimal string) or numeric "
            "Gamma id. Returns the question, dates, volume/liquidity (USDC), tick size, whether it is closed (and the "
            "winning outcome if resolved), and `outcomes: [{name, token_id, price}]` so you never have to guess "
            "which token is YES. Follow up with get_order_book(token_id) or subscribe_market_prices(token_ids=[...])."
        ),
    )
    async def get_market(
        ctx: Context[Application],
        market: Annotated[str, Field(description="Slug, condition id, token id or numeric Gamma market id.")],
    ) -> MarketResult:
        app = app_context(ctx)
        ref = market.strip()
        if not ref or len(ref) > MAX_MARKET_REF_CHARS:
            raise InvalidInputError(
                f"market must be a slug, condition id, token id or Gamma id of at most {MAX_MARKET_REF_CHARS} "
                f"characters (got {len(ref)}). Use search_markets to find one."
            )
        return MarketResult.from_info(await app.gamma.get_market(ref))

    @mcp.tool(
        title="Get an order book",
        annotations=_READ_VENUE,
        description=(
            "Current order book of one outcome token: `bids` (best/highest first) and `asks` (best/lowest first) as "
            "{price, size} decimal strings (price in USDC per share, 0..1; size in shares), plus best_bid, best_ask, "
            "mid, spread, tick_size, last_trade_price. `source` is 'ws' when the book is streamed live (after a "
            "subscription) or 'rest' for a one-off snapshot; `age_s` is seconds since the last update and `stale` is "
            "true while the live feed is reconnecting. For continuous updates use subscribe_orderbook_updates."
        ),
    )
    async def get_order_book(
        ctx: Context[Application],
        token_id: Annotated[str, Field(description="Outcome token id (decimal string) from get_market.")],
        depth: Annotated[int, Field(description="Price levels per side, 1-100.")] = 10,
    ) -> OrderBookResult:
        app = app_context(ctx)
        token = check_token_id(token_id)
        check_depth(depth)
        return await order_book(app, token, depth)
