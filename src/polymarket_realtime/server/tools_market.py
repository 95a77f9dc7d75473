"""Toolset ``market``: find markets and read one order book (no subscription needed)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.views import MarketResult, OrderBookResult, SearchResult
from .annotations import READ_VENUE as _READ_VENUE
from .context import app_context

__all__ = ["register"]


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Search Polymarket markets",
        annotations=_READ_VENUE,
        description=(
            "Search markets by words from the question ('bitcoin 150k'): question, slug, condition_id, end_date, "
            "volume, liquidity (USDC), outcomes [{name, token_id, price (0..1 probability)}]. Next: a token_id with "
            "get_order_book or subscribe_orderbook_updates; a slug or condition_id with get_market or in market_ids."
        ),
    )
    async def search_markets(
        ctx: Context[Application],
        query: Annotated[str, Field(description="Free text, e.g. 'election', 'btc above'. An exact slug also works.")],
        limit: Annotated[int, Field(description="Maximum markets to return, 1-50.")] = 10,
        active_only: Annotated[bool, Field(description="Only markets still trading (not closed).")] = True,
    ) -> SearchResult:
        return await app_context(ctx).market.search(query, limit=limit, active_only=active_only)

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
        return await app_context(ctx).market.market(market)

    @mcp.tool(
        title="Get an order book",
        annotations=_READ_VENUE,
        description=(
            "One outcome token's order book: bids and asks best-first as {price, size} decimal strings (price USDC "
            "per share, 0..1; size in shares), best_bid, best_ask, mid, spread, tick_size, last_trade_price. source: "
            "'ws' (live, subscribed) or 'rest' (one-off); age_s since the last update; stale while the feed "
            "reconnects. For updates: subscribe_orderbook_updates."
        ),
    )
    async def get_order_book(
        ctx: Context[Application],
        token_id: Annotated[str, Field(description="Outcome token id (decimal string) from get_market.")],
        depth: Annotated[int, Field(description="Price levels per side, 1-100.")] = 10,
    ) -> OrderBookResult:
        return await app_context(ctx).market.order_book(token_id, depth)
