"""Market data: search, one market, one order book (live when streamed and fresh, else a REST snapshot)."""

from __future__ import annotations

from typing import Any

from ..clock import Clock
from ..errors import InvalidInputError, VenueError
from ..model.book import BookReader, OrderBook
from ..venues.polymarket.gamma import GammaClient
from ..venues.polymarket.rest import ClobRestClient
from .validation import check_depth, check_limit, check_token_id
from .views import MarketResult, OrderBookResult, PriceLevel, SearchResult

__all__ = ["FRESH_BOOK_MAX_AGE_S", "MAX_MARKET_REF_CHARS", "MarketData", "book_result"]

FRESH_BOOK_MAX_AGE_S = 30.0
MAX_MARKET_REF_CHARS = 200
"""Longer than any slug, condition id (66) or token id (78): refused before reaching Gamma."""


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


class MarketData:
    def __init__(self, gamma: GammaClient, clob: ClobRestClient, books: BookReader, clock: Clock) -> None:
        self._gamma = gamma
        self.clob = clob
        self._books = books
        self._clock = clock

    async def search(self, query: str, limit: int = 10, active_only: bool = True) -> SearchResult:
        check_limit(limit, maximum=50)
        markets = await self._gamma.search(query, limit=limit, active_only=active_only)
        return SearchResult(query=query, count=len(markets), markets=[MarketResult.from_info(m) for m in markets])

    async def market(self, market: str) -> MarketResult:
        ref = market.strip()
        if not ref or len(ref) > MAX_MARKET_REF_CHARS:
            raise InvalidInputError(
                f"market must be a slug, condition id, token id or Gamma id of at most {MAX_MARKET_REF_CHARS} "
                f"characters (got {len(ref)}). Use search_markets to find one."
            )
        return MarketResult.from_info(await self._gamma.get_market(ref))

    async def order_book(self, token_id: str, depth: int = 10) -> OrderBookResult:
        token = check_token_id(token_id)
        check_depth(depth)
        now_ns = self._clock.time_ns()
        book = self._books.get(token)
        if book is not None and not book.stale:
            age = book.age_s(now_ns)
            if age is not None and age <= FRESH_BOOK_MAX_AGE_S:
                return book_result(token, book.view(depth, now_ns))
        try:
            snapshot = await self.clob.get_book(token)
        except VenueError:
            if book is None or not book.updated_recv_ns:
                raise
            return book_result(token, book.view(depth, now_ns))
        rest_book = OrderBook(token, snapshot.market, clock=self._clock)
        rest_book.apply_snapshot(snapshot)
        return book_result(token, rest_book.view(depth, self._clock.time_ns()))
