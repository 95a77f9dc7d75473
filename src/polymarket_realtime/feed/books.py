"""BookStore: the local order books of every streamed token, fed by normalized events.

Contract
--------
* ``apply(event)`` is synchronous and O(changed levels); it never raises on a well-formed event.
  Book events (``book``, ``price_change``, ``tick_size_change``, ``last_trade_price``) update the
  token's :class:`OrderBook`; every other event type is ignored.
* Books are created by snapshots only. A ``price_change`` for a token with no book is counted in
  ``orphan_updates`` and dropped: applying deltas to nothing would invent a book.
* A book that becomes crossed or locked after an update has missed something: it is counted once in
  ``crossed_detected``, flagged stale and put in the resync set (``needs_resync()``) until a fresh
  snapshot clears it.
* ``top_mismatches`` counts price changes whose venue-reported best bid/ask disagrees with the book
  after applying them (diagnostic only).
* A REST snapshot older (venue time) than what the book already holds is ignored
  (``old_snapshots_ignored``), so a slow ``POST /books`` fallback cannot roll a live book back.
* ``await wait_live(asset_ids, timeout_s)`` waits (bounded) until those books are live (a snapshot
  applied, not stale). Waiters are woken from the snapshot path only, and only when someone waits
  (one dict check per snapshot), so the hot path does not pay for it; nothing polls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

import anyio

from polymarket_realtime.clock import SYSTEM_CLOCK, Clock
from polymarket_realtime.model.book import OrderBook
from polymarket_realtime.model.events import BookSnapshot, Event, LastTrade, PriceChange, TickSizeChange

__all__ = ["BookStore"]

logger = logging.getLogger(__name__)


def _same_top(venue: Decimal, ours: Decimal | None) -> bool:
    # The venue writes "0" (or "") for an empty side.
    return venue == ours if ours is not None else not venue


class BookStore:
    """asset_id -> :class:`OrderBook`, plus health counters (plain int attributes)."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._books: dict[str, OrderBook] = {}
        self._resync: set[str] = set()
        self._live_waiters: dict[str, set[anyio.Event]] = {}
        self.snapshots = 0
        self.price_changes = 0
        self.tick_size_changes = 0
        self.last_trades = 0
        self.orphan_updates = 0
        self.crossed_detected = 0
        self.old_snapshots_ignored = 0
        self.stale_marked = 0
        self.top_mismatches = 0

    def apply(self, event: Event) -> None:
        """Apply one normalized event to its book (non-book events are ignored)."""
        # `type(...) is` rather than isinstance: exact classes, cheapest check on the hot path.
        if type(event) is PriceChange:
            self._price_change(event)
        elif type(event) is BookSnapshot:
            self._snapshot(event)
        elif type(event) is LastTrade:
            book = self._books.get(event.asset_id)
            if book is not None:
                self.last_trades += 1
                book.apply_last_trade(event)
        elif type(event) is TickSizeChange:
            book = self._books.get(event.asset_id)
            if book is not None:
                self.tick_size_changes += 1
                book.apply_tick_size(event)

    def _snapshot(self, snapshot: BookSnapshot) -> None:
        book = self._books.get(snapshot.asset_id)
        if book is None:
            book = self._books[snapshot.asset_id] = OrderBook(snapshot.asset_id, snapshot.market, clock=self._clock)
        elif (
            snapshot.source == "rest"
            and not book.stale
            and snapshot.ts_event_ms
            and book.ts_event_ms > snapshot.ts_event_ms
        ):
            self.old_snapshots_ignored += 1
            return
        self.snapshots += 1
        book.apply_snapshot(snapshot)
        if book.is_crossed():
            self._flag_crossed(book)
        else:
            self._resync.discard(snapshot.asset_id)
            if self._live_waiters:
                for waiter in self._live_waiters.pop(snapshot.asset_id, ()):
                    waiter.set()

    def _price_change(self, change: PriceChange) -> None:
        book = self._books.get(change.asset_id)
        if book is None:
            self.orphan_updates += 1
            return
        self.price_changes += 1
        book.apply_price_change(change)
        if book.is_crossed():
            self._flag_crossed(book)
        elif (change.best_bid is not None and not _same_top(change.best_bid, book.best_bid())) or (
            change.best_ask is not None and not _same_top(change.best_ask, book.best_ask())
        ):
            # The venue's top of book after this change disagrees with ours. Counted only: a
            # diagnostic for missed updates that never triggers a resync on its own.
            self.top_mismatches += 1

    def _flag_crossed(self, book: OrderBook) -> None:
        if book.asset_id in self._resync:
            return
        self.crossed_detected += 1
        self._resync.add(book.asset_id)
        book.mark_stale("crossed book")
        logger.warning(
            "book %s crossed (bid %s >= ask %s); resync needed", book.asset_id, book.best_bid(), book.best_ask()
        )

    def get(self, asset_id: str) -> OrderBook | None:
        return self._books.get(asset_id)

    def is_live(self, asset_id: str) -> bool:
        """A book exists and is not stale (snapshot applied, connection up, not crossed)."""
        book = self._books.get(asset_id)
        return book is not None and not book.stale

    async def wait_live(self, asset_ids: Iterable[str], timeout_s: float) -> list[str]:
        """Wait up to ``timeout_s`` until every book of ``asset_ids`` is live; returns those still not live."""
        pending = [a for a in dict.fromkeys(asset_ids) if not self.is_live(a)]
        if not pending or timeout_s <= 0:
            return pending
        with anyio.move_on_after(timeout_s):
            while pending:
                wake = anyio.Event()
                for asset in pending:
                    self._live_waiters.setdefault(asset, set()).add(wake)
                try:
                    await wake.wait()
                finally:
                    for asset in pending:
                        waiters = self._live_waiters.get(asset)
                        if waiters is not None:
                            waiters.discard(wake)
                            if not waiters:
                                del self._live_waiters[asset]
                pending = [a for a in pending if not self.is_live(a)]
        return [a for a in pending if not self.is_live(a)]

    def mark_stale(self, asset_ids: Iterable[str], reason: str) -> None:
        """Flag books stale (e.g. their connection dropped); the next snapshot clears the flag."""
        for asset_id in asset_ids:
            book = self._books.get(asset_id)
            if book is not None and not book.stale:
                self.stale_marked += 1
                book.mark_stale(reason)

    def needs_resync(self) -> set[str]:
        """Tokens whose book was found crossed/locked and has not been re-snapshotted since (a copy)."""
        return set(self._resync)

    def discard(self, asset_id: str) -> None:
        """Forget a token's book (unsubscribed)."""
        self._books.pop(asset_id, None)
        self._resync.discard(asset_id)

    def asset_ids(self) -> list[str]:
        return list(self._books)

    def counters(self) -> dict[str, int]:
        return {
            "books": len(self._books),
            "snapshots": self.snapshots,
            "price_changes": self.price_changes,
            "tick_size_changes": self.tick_size_changes,
            "last_trades": self.last_trades,
            "orphan_updates": self.orphan_updates,
            "crossed_detected": self.crossed_detected,
            "old_snapshots_ignored": self.old_snapshots_ignored,
            "stale_marked": self.stale_marked,
            "top_mismatches": self.top_mismatches,
            "needs_resync": len(self._resync),
        }

    def __len__(self) -> int:
        return len(self._books)

    def __contains__(self, asset_id: object) -> bool:
        return asset_id in self._books
