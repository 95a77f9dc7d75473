"""Gamma fallback for market resolution (the venue's ``market_resolved`` event is reported unreliable).

Every ``settings.resolution_poll_s`` the watcher asks Gamma about the markets that resolution
subscriptions care about (their condition ids; for "all markets" subscriptions, the markets of every
token currently streamed) and routes one ``MarketResolved(source="gamma")`` per market that Gamma shows
settled (the one rule in :func:`~polymarket_realtime.model.markets.settled_winner`: ``resolutionStatus``
for Protocol V2 markets, whose venue event has not been observed, ``umaResolutionStatus`` for V1), unless
the venue's own event was already seen. Each market is announced once. Condition ids of either width are
compared in the canonical 64-hex form.
"""

from __future__ import annotations

import logging

import anyio

from ..errors import PolymarketRealtimeError
from ..model.conditions import condition_key
from ..model.events import Event, MarketResolved
from ..model.markets import settled_winner
from .context import AppContext

__all__ = ["ResolutionWatcher"]

log = logging.getLogger(__name__)


class ResolutionWatcher:
    def __init__(self, app: AppContext) -> None:
        self._app = app
        self.announced: set[str] = set()
        """Condition ids already resolved (by the venue event or by us)."""
        self.polls = 0

    def on_event(self, event: Event) -> None:
        """Router-sink consumer: remember markets the venue resolved itself."""
        if isinstance(event, MarketResolved):
            self.announced.add(condition_key(event.market))

    def _watched(self) -> set[str]:
        subs = [s for s in self._app.router.list() if s.kind == "resolution"]
        if not subs:
            return set()
        conditions: set[str] = set()
        wide = False
        for sub in subs:
            conditions.update(sub.market_ids)
            wide = wide or sub.is_wide
        if wide:
            for sub in self._app.router.list():
                conditions.update(sub.meta.get("condition_ids", ()))
            for asset in self._app.books.asset_ids():
                book = self._app.books.get(asset)
                if book is not None and book.market:
                    conditions.add(book.market)
        return {condition_key(c) for c in conditions if c} - self.announced

    async def poll_once(self) -> int:
        """One Gamma check; returns how many resolutions were routed."""
        watched = self._watched()
        if not watched:
            return 0
        self.polls += 1
        routed = 0
        for market in await self._app.gamma.markets_by_condition_ids(watched):
            winner = settled_winner(market)
            if winner is None or market.condition_id in self.announced:
                continue
            self.announced.add(market.condition_id)
            now_ns = self._app.clock.time_ns()
            self._app.router.route(
                MarketResolved(
                    market=market.condition_id,
                    market_id=market.market_id,
                    asset_ids=tuple(market.token_ids),
                    winning_asset_id=winner.token_id,
                    winning_outcome=winner.name,
                    source="gamma",
                    ts_event_ms=now_ns // 1_000_000,
                    ts_recv_ns=now_ns,
                )
            )
            routed += 1
        return routed

    async def run(self) -> None:
        """Poll forever (start in the server task group)."""
        interval = self._app.settings.resolution_poll_s
        while True:
            await anyio.sleep(interval)
            try:
                await self.poll_once()
            except PolymarketRealtimeError as exc:
                log.warning("resolution fallback poll failed: %s", exc)
