"""The one Gamma fallback for market resolution (the venue's ``market_resolved`` event is unreliable and has
not been observed at all for Protocol V2 markets).

Every ``poll_s`` seconds :class:`ResolutionFallback` asks Gamma about the markets someone cares about and
emits one ``MarketResolved(source="gamma")`` per market that Gamma shows settled (the one rule in
:func:`~polymarket_realtime.model.markets.settled_winner`), unless the venue's own event was already seen.
Each market is announced once. Who cares:

* resolution subscriptions on the router: their condition ids; for "all markets" subscriptions, the
  markets of every subscription and of every token with a book;
* token providers registered with :meth:`ResolutionFallback.watch_tokens` (paper sessions' held
  positions), looked up by token id so V2 position ids resolve too.

The event is routed through the router (subscriptions and the paper sink receive it) and handed to
listeners registered with :meth:`ResolutionFallback.on_resolved` (a paper service running without a
router). Condition ids of either width are compared in the canonical 64-hex form.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import PolymarketRealtimeError
from ..model.book import BookReader
from ..model.conditions import condition_key
from ..model.events import Event, MarketResolved
from ..model.markets import MarketInfo, settled_winner
from .router import Subscription

__all__ = ["ConditionMarkets", "ResolutionFallback", "ResolutionMarkets"]

log = logging.getLogger(__name__)


class ResolutionMarkets(Protocol):
    """A market by token id (or any reference): :class:`~polymarket_realtime.venues.polymarket.gamma.GammaClient`."""

    async def get_market(self, ref: str) -> MarketInfo: ...


class ConditionMarkets(Protocol):
    """Markets by condition id, in one request (GammaClient); needed to watch resolution subscriptions."""

    async def markets_by_condition_ids(self, condition_ids: Iterable[str]) -> list[MarketInfo]: ...


class _Router(Protocol):
    def list(self) -> list[Subscription]: ...
    def route(self, event: Event) -> Any: ...


class ResolutionFallback:
    def __init__(
        self,
        markets: ResolutionMarkets,
        *,
        conditions: ConditionMarkets | None = None,
        router: _Router | None = None,
        books: BookReader | None = None,
        clock: Clock = SYSTEM_CLOCK,
        poll_s: float = 60.0,
    ) -> None:
        self._markets = markets
        self._conditions = conditions
        self._router = router
        self._books = books
        self._clock = clock
        self._poll_s = poll_s
        self._token_sources: list[Callable[[], Iterable[str]]] = []
        self._listeners: list[Callable[[MarketResolved], Awaitable[None]]] = []
        self._settled_tokens: set[str] = set()
        self.announced: set[str] = set()
        """Condition ids already resolved (by the venue event or by us)."""
        self.polls = 0

    def watch_tokens(self, source: Callable[[], Iterable[str]]) -> None:
        """Also watch the markets of the tokens ``source()`` returns at each poll."""
        self._token_sources.append(source)

    def on_resolved(self, listener: Callable[[MarketResolved], Awaitable[None]]) -> None:
        """Await ``listener(event)`` for every resolution this fallback finds (besides routing it)."""
        self._listeners.append(listener)

    def on_event(self, event: Event) -> None:
        """Router-sink consumer: remember markets the venue resolved itself."""
        if isinstance(event, MarketResolved):
            self.announced.add(condition_key(event.market))
            self._settled_tokens.update(event.asset_ids)

    def _watched_conditions(self) -> set[str]:
        if self._router is None or self._conditions is None:
            return set()
        subs = [s for s in self._router.list() if s.kind == "resolution"]
        if not subs:
            return set()
        conditions: set[str] = set()
        wide = False
        for sub in subs:
            conditions.update(sub.market_ids)
            wide = wide or sub.is_wide
        if wide:
            for sub in self._router.list():
                conditions.update(sub.meta.get("condition_ids", ()))
            if self._books is not None:
                for asset in self._books.asset_ids():
                    book = self._books.get(asset)
                    if book is not None and book.market:
                        conditions.add(book.market)
        return {condition_key(c) for c in conditions if c} - self.announced

    def _watched_tokens(self) -> list[str]:
        tokens = {t for source in self._token_sources for t in source()}
        return sorted(tokens - self._settled_tokens)

    async def poll_once(self) -> int:
        """One Gamma check; returns how many resolutions were emitted."""
        watched = self._watched_conditions()
        tokens = self._watched_tokens()
        if not watched and not tokens:
            return 0
        self.polls += 1
        found: list[MarketInfo] = []
        if watched and self._conditions is not None:
            found.extend(await self._conditions.markets_by_condition_ids(watched))
        for token in tokens:
            if token in self._settled_tokens:
                continue  # its market was announced earlier in this poll
            try:
                info = await self._markets.get_market(token)
            except PolymarketRealtimeError:
                continue
            if settled_winner(info) is not None:
                self._settled_tokens.update(info.token_ids)
            found.append(info)
        emitted = 0
        for market in found:
            winner = settled_winner(market)
            if winner is None or market.condition_id in self.announced:
                continue
            self.announced.add(market.condition_id)
            self._settled_tokens.update(market.token_ids)
            now_ns = self._clock.time_ns()
            event = MarketResolved(
                market=market.condition_id,
                market_id=market.market_id,
                asset_ids=tuple(market.token_ids),
                winning_asset_id=winner.token_id,
                winning_outcome=winner.name,
                source="gamma",
                ts_event_ms=now_ns // 1_000_000,
                ts_recv_ns=now_ns,
            )
            if self._router is not None:
                self._router.route(event)
            for listener in self._listeners:
                await listener(event)
            emitted += 1
        return emitted

    async def run(self) -> None:
        """Poll forever (start in a task group)."""
        while True:
            await anyio.sleep(self._poll_s)
            try:
                await self.poll_once()
            except PolymarketRealtimeError as exc:
                log.warning("resolution fallback poll failed: %s", exc)
