"""Route each normalized event to the subscriptions that want it and to the consumer sinks.

``route(event)`` is synchronous and never awaits: it runs inline in the socket reader after the book was
updated. Subscriptions are indexed three ways so the cost per event is proportional to the subscriptions
that match, not to the number that exist:

* by **asset id** (token-filtered subscriptions: prices, order books, resolution of given tokens);
* by **market** (condition-id-filtered subscriptions: user orders/trades per market);
* by **event type** for subscriptions without any token/market filter (resolution for all markets, the
  user channel for all markets, PolyBolt reference prices or polled comments, narrowed by a local ``predicate``).

A subscription receives an event when the type is in its ``event_types``, one of its filters matches
(token id, condition id, or one of the event's ``asset_ids``), and its predicate (if any) accepts it.
``feed_status`` events reach a token-filtered subscription when their ``asset_ids`` overlap its tokens.
For ``depth > 0`` subscriptions, book-changing events carry ``{"book": books.get(asset).top(depth)}`` as
the log entry's ``extra`` (computed once per asset and depth per event). A subscription callback or sink
that raises is logged and skipped: one bad consumer never stops the fan-out.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFoundError
from ..model.book import BookReader
from ..model.conditions import condition_key
from ..model.events import Event
from .eventlog import EventLog, LogEntry
from .sinks import Sink

__all__ = ["BOOK_EVENT_TYPES", "EventRouter", "Subscription"]

logger = logging.getLogger(__name__)

BOOK_EVENT_TYPES = frozenset({"book", "price_change", "tick_size_change", "last_trade_price", "best_bid_ask"})
"""Events after which a depth subscription gets a fresh book view."""


@dataclass(eq=False, slots=True)
class Subscription:
    """One consumer's interest plus its event log.

    ``token_ids``/``market_ids`` empty means "no filter of that kind"; both empty = every event of the
    declared ``event_types``. ``on_event`` is called synchronously after each append (must not block;
    the MCP layer uses it to queue notifications).
    """

    subscription_id: str
    kind: str
    token_ids: frozenset[str]
    market_ids: frozenset[str]
    event_types: frozenset[str]
    depth: int = 0
    callback_type: str = "log"
    log: EventLog = field(default_factory=lambda: EventLog(1000))
    predicate: Callable[[Event], bool] | None = None
    on_event: Callable[[Subscription, LogEntry], None] | None = None
    created_ns: int = 0
    last_event_ns: int = 0
    """``ts_recv_ns`` of the last event appended (0 = none yet)."""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_wide(self) -> bool:
        return not self.token_ids and not self.market_ids

    def summary(self, now_ns: int) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "kind": self.kind,
            "token_ids": sorted(self.token_ids),
            "market_ids": sorted(self.market_ids),
            "events_delivered": self.log.delivered,
            "events_dropped": self.log.dropped_total,
            "last_event_age_s": round((now_ns - self.last_event_ns) / 1e9, 3) if self.last_event_ns else None,
        }


class EventRouter:
    """Indexed fan-out of events to subscription logs and sinks."""

    def __init__(self, books: BookReader | None = None) -> None:
        self._books = books
        self._subs: dict[str, Subscription] = {}
        self._by_asset: dict[str, list[Subscription]] = {}
        self._by_market: dict[str, list[Subscription]] = {}
        self._wide: dict[str, list[Subscription]] = {}
        self._sinks: list[Sink] = []
        self._multi = False
        """Some subscription is wide or market-filtered (else token lookups alone find every target)."""
        self.routed = 0
        self.callback_errors = 0

    # --- subscriptions --------------------------------------------------------------------------

    def add(self, sub: Subscription) -> Subscription:
        if sub.subscription_id in self._subs:
            raise ValueError(f"duplicate subscription id {sub.subscription_id}")
        self._subs[sub.subscription_id] = sub
        if sub.is_wide:
            for etype in sub.event_types:
                self._wide.setdefault(etype, []).append(sub)
        for asset in sub.token_ids:
            self._by_asset.setdefault(asset, []).append(sub)
        for market in sub.market_ids:
            self._by_market.setdefault(market, []).append(sub)
        self._multi = bool(self._wide or self._by_market)
        return sub

    def remove(self, subscription_id: str) -> Subscription:
        """Unregister and close the subscription's log (long-pollers wake up)."""
        sub = self.get(subscription_id)
        del self._subs[subscription_id]
        _unindex(self._wide, sub.event_types if sub.is_wide else (), sub)
        _unindex(self._by_asset, sub.token_ids, sub)
        _unindex(self._by_market, sub.market_ids, sub)
        self._multi = bool(self._wide or self._by_market)
        sub.log.close()
        return sub

    def get(self, subscription_id: str) -> Subscription:
        sub = self._subs.get(subscription_id)
        if sub is None:
            raise NotFoundError(f"Unknown subscription id {subscription_id!r}.", known=sorted(self._subs))
        return sub

    def list(self) -> builtins.list[Subscription]:
        return builtins.list(self._subs.values())

    def __len__(self) -> int:
        return len(self._subs)

    # --- sinks ----------------------------------------------------------------------------------

    def add_sink(self, name: str, capacity: int, *, event_types: Iterable[str] | None = None) -> Sink:
        """A bounded queue receiving every routed event (drop-newest and count when full)."""
        sink = Sink(
            name,
            capacity,
            event_types=frozenset(event_types) if event_types is not None else None,
            on_close=self._remove_sink,
        )
        self._sinks.append(sink)
        return sink

    def _remove_sink(self, sink: Sink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def sinks(self) -> builtins.list[Sink]:
        return builtins.list(self._sinks)

    @property
    def sink_dropped(self) -> int:
        return sum(s.dropped for s in self._sinks)

    # --- hot path -------------------------------------------------------------------------------

    def route(self, event: Event) -> int:
        """Deliver ``event``; returns how many subscriptions received it. Never awaits."""
        self.routed += 1
        etype = event.type
        asset: str | None = getattr(event, "asset_id", None)
        if asset is not None and not self._multi:
            # Fast path: only token-filtered subscriptions exist.
            targets = self._by_asset.get(asset)
        else:
            targets = self._targets(event, etype, asset)
        delivered = 0
        if targets:
            views: dict[int, dict[str, Any]] | None = None
            ts = event.ts_recv_ns
            for sub in targets:
                if etype not in sub.event_types:
                    continue
                pred = sub.predicate
                if pred is not None and not pred(event):
                    continue
                extra = None
                depth = sub.depth
                if depth > 0 and asset is not None and etype in BOOK_EVENT_TYPES and self._books is not None:
                    if views is None:
                        views = {}
                    extra = views.get(depth)
                    if extra is None:
                        book = self._books.get(asset)
                        # Unformatted (BookTop): rendered to JSON when read, not on the socket path.
                        extra = views[depth] = {"book": book.top(depth) if book is not None else None}
                seq = sub.log.append(event, extra)
                sub.last_event_ns = ts
                delivered += 1
                callback = sub.on_event
                if callback is not None:
                    try:
                        callback(sub, LogEntry(seq, event, extra))
                    except Exception:
                        self.callback_errors += 1
                        logger.exception("subscription %s callback failed", sub.subscription_id)
        if self._sinks:
            for sink in self._sinks:
                types = sink.event_types
                if types is None or etype in types:
                    sink.offer(event)
        return delivered

    def _targets(self, event: Event, etype: str, asset: str | None) -> builtins.list[Subscription]:
        found: builtins.list[Subscription] | None = None
        parts = 0
        wide = self._wide.get(etype)
        if wide:
            found, parts = wide, 1
        if asset is not None and self._by_asset:
            hit = self._by_asset.get(asset)
            if hit:
                found, parts = (hit, 1) if found is None else ([*found, *hit], parts + 1)
        elif self._by_asset:
            # Market-wide events name their tokens (new_market, market_resolved, feed_status).
            assets: tuple[str, ...] = getattr(event, "asset_ids", ())
            for a in assets:
                hit = self._by_asset.get(a)
                if hit:
                    found, parts = (hit, 1) if found is None else ([*found, *hit], parts + 1)
        market = getattr(event, "market", None)
        if market is not None and self._by_market:
            # Keys are canonical (64-hex lowercase); an event naming a 62-hex V2 id still joins.
            hit = self._by_market.get(market) or self._by_market.get(condition_key(market))
            if hit:
                found, parts = (hit, 1) if found is None else ([*found, *hit], parts + 1)
        if found is None:
            return []
        if parts > 1:
            found = builtins.list(dict.fromkeys(found))  # one delivery per subscription
        return found


def _unindex(index: dict[str, list[Subscription]], keys: Iterable[str], sub: Subscription) -> None:
    for key in keys:
        subs = index.get(key)
        if subs is None:
            continue
        # A new list (not in-place) so a route() iterating the old one is not disturbed.
        rest = [s for s in subs if s is not sub]
        if rest:
            index[key] = rest
        else:
            del index[key]
