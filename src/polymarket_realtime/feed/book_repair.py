"""REST repairs of the market books: snapshots a socket owes for too long, and books seen crossed.

After a (re)connect or a dynamic subscribe every token owes a ``book`` snapshot (:mod:`.recovery`);
tokens still owing one after ``snapshot_fallback_s`` are fetched with ``POST /books`` (``source="rest"``),
up to a few times. A crossed book (bid >= ask) is resynced from REST once the burst that crossed it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable

import anyio

from ..config import Settings
from ..errors import PolymarketRealtimeError
from ..model.events import BookSnapshot
from ..routing.router import EventRouter
from ..venues.polymarket.rest import ClobRestClient
from .books import BookStore
from .connection import FeedConnection
from .recovery import RecoveryTracker
from .stats import FeedStatistics

__all__ = ["BookRepair"]

logger = logging.getLogger(__name__)

_REST_RETRIES = 5


class BookRepair:
    """Fetches over REST the books the sockets did not deliver (or delivered crossed)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clob_rest: ClobRestClient,
        books: BookStore,
        router: EventRouter,
        stats: FeedStatistics,
        wanted: Container[str],
        recovery: RecoveryTracker,
        settle: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.clob_rest = clob_rest
        self.books = books
        self.router = router
        self.stats = stats
        self._wanted = wanted
        self._recovery = recovery
        self._settle = settle
        self.resyncing = False
        """A crossed-book resync is scheduled or running (one at a time)."""
        self.crossed_seen = 0

    async def snapshot_fallback(self, conn: FeedConnection, attempt: int, assets: list[str]) -> None:
        for _ in range(_REST_RETRIES):
            await anyio.sleep(self.settings.snapshot_fallback_s)
            if conn.stopped or conn.attempts != attempt:
                return  # a newer connection attempt owns these books now
            missing = [a for a in assets if self._recovery.owes(a, conn.connection_id)]
            if not missing:
                return
            try:
                snapshots = await self.clob_rest.get_books(missing)
            except PolymarketRealtimeError as exc:
                self.stats.rest_errors += 1
                logger.warning("%s: REST snapshot fallback failed: %s", conn.connection_id, exc)
                continue
            if conn.stopped or conn.attempts != attempt:
                return
            logger.info(
                "%s: %d of %d books had no snapshot after %.1fs; rebuilt from REST",
                conn.connection_id,
                len(snapshots),
                len(missing),
                self.settings.snapshot_fallback_s,
            )
            self.apply_rest(snapshots)
            for asset in missing:
                # Tokens the venue has no book for are not owed one any more.
                if self._recovery.owes(asset, conn.connection_id):
                    self._settle(asset)
            return

    def apply_rest(self, snapshots: Iterable[BookSnapshot]) -> None:
        for snap in snapshots:
            if snap.asset_id not in self._wanted:
                continue
            self.stats.rest_snapshots += 1
            self.books.apply(snap)
            self.router.route(snap)
            self.stats.count_type(snap.type)

    async def resync_crossed(self) -> None:
        try:
            # Let the burst that crossed the book finish; a snapshot may fix it first.
            await anyio.sleep(min(0.5, self.settings.snapshot_fallback_s))
            todo = [a for a in self.books.needs_resync() if a in self._wanted]
            if not todo:
                return
            try:
                snapshots = await self.clob_rest.get_books(todo)
            except PolymarketRealtimeError as exc:
                self.stats.rest_errors += 1
                logger.warning("REST resync of %d crossed books failed: %s", len(todo), exc)
                return
            self.stats.resyncs += 1
            self.apply_rest(snapshots)
        finally:
            self.resyncing = False
