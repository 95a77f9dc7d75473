"""The per-frame pipeline, inline in each socket's reader: parse -> filter -> books -> router.

Market frames: book events for tokens nobody here wants are dropped (a ``price_change`` names both
tokens of a market), a ``book`` snapshot settles the token's snapshot debt (:mod:`.recovery`),
``new_market``/``market_resolved`` repeated by several market sockets are de-duplicated, then each event
is applied to the books and routed. Other channels route as they come; the user channel drops events
its gap recovery already emitted. A book seen crossed schedules one REST resync (:mod:`.book_repair`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from ..model.events import BestBidAsk, BookSnapshot, LastTrade, MarketResolved, NewMarket, PriceChange, TickSizeChange
from ..routing.router import EventRouter
from ..venues.polymarket.parsing import ParsedFrame
from .book_repair import BookRepair
from .books import BookStore
from .connection import FeedConnection
from .stats import FeedStatistics
from .user_channel import UserChannel

__all__ = ["FramePipeline"]

_ASSET_EVENTS: frozenset[type] = frozenset({BookSnapshot, PriceChange, LastTrade, TickSizeChange, BestBidAsk})
_DEDUP_KEEP = 4096


class FramePipeline:
    """Turns each parsed frame into book updates and routed events (synchronous: the hot path)."""

    def __init__(
        self,
        *,
        books: BookStore,
        router: EventRouter,
        stats: FeedStatistics,
        wanted: dict[str, int],
        awaiting: dict[str, str],
        settle: Callable[[str], None],
        user: UserChannel,
        repair: BookRepair,
        spawn: Callable[..., None],
    ) -> None:
        self.books = books
        self.router = router
        self.stats = stats
        self._wanted = wanted
        self._awaiting = awaiting
        self._settle = settle
        self._user = user
        self.repair = repair
        self._spawn = spawn
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def on_frame(self, conn: FeedConnection, frame: ParsedFrame, ts_recv_ns: int) -> None:
        stats = self.stats
        stats.record_frame(frame)
        if self._user.gap_due is conn and self._user.gap is not None:
            self._user.gap_due = None
            self._spawn(self._user.reconcile, conn, self._user.gap)
        events = frame.events
        if not events:
            return
        if conn.spec.channel != "market":
            route = self.router.route
            gap = self._user.gap if conn.spec.channel == "user" else None
            delivered = 0
            for event in events:
                if gap is not None:
                    if gap.duplicate(event):
                        continue
                    gap.observe(event)
                stats.count_type(event.type)
                route(event)
                delivered += 1
            stats.record_events(delivered)
            return
        wanted = self._wanted
        awaiting = self._awaiting
        apply = self.books.apply
        route = self.router.route
        by_type = stats.events_by_type
        delivered = 0
        for event in events:
            cls = type(event)
            if cls in _ASSET_EVENTS:
                asset: str = event.asset_id  # type: ignore[union-attr]  # every _ASSET_EVENTS class has one
                if asset not in wanted:
                    stats.filtered_events += 1
                    continue
                if awaiting and cls is BookSnapshot and asset in awaiting:
                    self._settle(asset)
            elif (cls is NewMarket or cls is MarketResolved) and self.duplicate(event):  # type: ignore[arg-type]
                stats.duplicate_events += 1
                continue
            apply(event)
            route(event)
            etype = event.type
            by_type[etype] = by_type.get(etype, 0) + 1
            delivered += 1
        stats.record_events(delivered)
        repair = self.repair
        if self.books.crossed_detected != repair.crossed_seen:
            repair.crossed_seen = self.books.crossed_detected
            if not repair.resyncing:
                repair.resyncing = True
                self._spawn(repair.resync_crossed)

    def duplicate(self, event: NewMarket | MarketResolved) -> bool:
        key = (event.type, event.market)
        seen = self._seen
        if key in seen:
            return True
        seen[key] = None
        if len(seen) > _DEDUP_KEEP:
            seen.popitem(last=False)
        return False
