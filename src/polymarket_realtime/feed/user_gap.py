"""User-channel gap reconciliation: what the account did while the user socket was down.

The venue does not replay user events missed during a disconnection; its guide says to re-read open
orders and recent trades after reconnecting and resume from that state. :class:`UserGapReconciler`
remembers the latest state of every order and trade the socket delivered (:meth:`observe`). After a
reconnect (never after the first connect) :meth:`reconcile` reads ``GET /data/orders`` and
``GET /data/trades`` (all pages) for the subscribed markets and returns synthetic
:class:`~polymarket_realtime.model.events.UserOrder` / ``UserTrade`` events marked
``source="rest_reconcile"`` for what changed:

* an open order never seen -> ``PLACEMENT``; a seen one with a new status or a larger ``size_matched``
  -> ``UPDATE``;
* an order seen open that is no longer listed -> looked up by id (the venue returns it whatever its
  status) -> ``CANCELLATION`` when canceled, ``UPDATE`` otherwise;
* a trade never seen, or a seen one at a later status (MATCHED < RETRYING < MINED < CONFIRMED/FAILED);
* an order placed and closed inside the gap (listed nowhere) -> found by id through the new trades'
  ``taker_order_id`` / ``maker_orders`` (other accounts' ids simply return nothing).

Nothing is emitted twice: the REST answer can be older than events the new socket already delivered
(a stale ``MATCHED`` after a live ``MINED`` is ignored), and a socket event repeating what the
reconciliation already emitted is reported by :meth:`duplicate` so the manager drops it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final, Protocol

import msgspec

from ..model.events import Event, UserOrder, UserTrade
from ..venues.polymarket.parsing import user_event
from ..venues.polymarket.schemas import WireOrder, WireTrade

__all__ = ["UserGapReconciler", "UserRestSource"]

logger = logging.getLogger(__name__)

_KEEP: Final = 5000
_MAX_LOOKUPS: Final = 100
"""Vanished orders looked up by id per reconciliation (each is one request)."""
_TRADE_RANK: Final = {
    "MATCHED": 0,
    "MATCHED_NOT_BROADCASTED": 0,
    "RETRYING": 1,
    "MINED": 2,
    "CONFIRMED": 3,
    "FAILED": 3,
}
_CLOSED_ORDER: Final = frozenset({"CANCELED", "CANCELLED", "UNMATCHED"})
_AFTER_MARGIN_S: Final = 120


class UserRestSource(Protocol):
    """The account reads the reconciliation needs (:class:`~..venues.polymarket.user_rest.UserRestClient`)."""

    async def open_orders(self, *, market: str | None = None) -> list[WireOrder]: ...

    async def recent_trades(
        self, *, market: str | None = None, limit: int = 50, after: int | None = None
    ) -> list[WireTrade]: ...

    async def order(self, order_id: str) -> WireOrder | None: ...


class UserGapReconciler:
    def __init__(self, source: UserRestSource, *, trade_limit: int = 500) -> None:
        self.source = source
        self._trade_limit = trade_limit
        self._orders: OrderedDict[str, UserOrder] = OrderedDict()
        self._trades: OrderedDict[str, tuple[str, int]] = OrderedDict()
        """trade id -> (latest status, match time ms)."""
        self._emitted: set[tuple[str, str, str]] = set()
        self._down_since_s: float | None = None
        self.reconciliations = 0
        self.recovered = 0
        self.duplicates_dropped = 0
        self.errors = 0

    # --- the live stream ------------------------------------------------------------------------

    def observe(self, event: Event) -> None:
        """Remember the state an event (live or reconciled) leaves its order or trade in."""
        if isinstance(event, UserOrder):
            self._orders[event.order_id] = event
            self._orders.move_to_end(event.order_id)
            _trim(self._orders)
        elif isinstance(event, UserTrade):
            status = _trade_status(event.status)
            old = self._trades.get(event.trade_id)
            if old is None or _rank(status) >= _rank(old[0]):
                self._trades[event.trade_id] = (status, event.match_time_ms)
                self._trades.move_to_end(event.trade_id)
                _trim(self._trades)

    def duplicate(self, event: Event) -> bool:
        """True for a socket event that repeats what a reconciliation already emitted (drop it)."""
        if not self._emitted:
            return False
        key = _key(event)
        if key is not None and key in self._emitted:
            self._emitted.discard(key)
            self.duplicates_dropped += 1
            return True
        return False

    def disconnected(self, now_s: float) -> None:
        if self._down_since_s is None:
            self._down_since_s = now_s

    # --- after a reconnect ----------------------------------------------------------------------

    async def reconcile(self, markets: Iterable[str] | None, ts_recv_ns: int) -> list[Event]:
        """Read the account's orders and trades and return the changes not seen on the socket.

        ``markets``: the user channel's condition ids (None = every market). Events returned are already
        observed; the caller routes them. REST errors propagate (the caller logs and counts them).
        """
        self.reconciliations += 1
        scope: list[str | None] = list(markets) if markets is not None else [None]
        wanted = None if markets is None else frozenset(m for m in scope if m)
        out: list[Event] = []
        listed: set[str] = set()
        for market in scope:
            for wire in await self.source.open_orders(market=market):
                listed_order = _order(wire, "PLACEMENT", ts_recv_ns)
                listed.add(listed_order.order_id)
                self._diff_order(listed_order, out)
        vanished = [
            o
            for o in self._orders.values()
            if o.order_id not in listed
            and o.status.upper() not in _CLOSED_ORDER
            and o.action != "CANCELLATION"
            and o.size_matched < o.original_size
            and (wanted is None or o.market in wanted)
        ]
        for seen in vanished[-_MAX_LOOKUPS:]:
            found = await self.source.order(seen.order_id)
            if found is not None:
                self._diff_order(_order(found, "UPDATE", ts_recv_ns), out)
        after = self._after_s()
        new_trades: list[UserTrade] = []
        for market in scope:
            for wire_trade in await self.source.recent_trades(market=market, limit=self._trade_limit, after=after):
                trade = _trade(wire_trade, ts_recv_ns)
                if (wanted is None or trade.market in wanted) and self._diff_trade(trade, out):
                    new_trades.append(trade)
        # Orders placed and closed inside the gap are in no open-orders page: find ours through the trades.
        unknown = {
            oid: None
            for t in new_trades
            for oid in (t.taker_order_id, *(m.order_id for m in t.maker_orders))
            if oid and oid not in self._orders and oid not in listed
        }
        for order_id in list(unknown)[:_MAX_LOOKUPS]:
            found = await self.source.order(order_id)
            if found is not None:
                self._diff_order(_order(found, "PLACEMENT", ts_recv_ns), out)
        self._down_since_s = None
        self.recovered += len(out)
        for event in out:
            key = _key(event)
            if key is not None:
                self._emitted.add(key)
        if len(self._emitted) > _KEEP:
            self._emitted.clear()  # only guards against the socket re-sending recent changes
        return out

    def _diff_order(self, order: UserOrder, out: list[Event]) -> None:
        seen = self._orders.get(order.order_id)
        if seen is not None:
            if order.size_matched < seen.size_matched:
                return  # the REST answer predates what the socket already delivered
            if seen.status.upper() in _CLOSED_ORDER or seen.action == "CANCELLATION":
                return
            if order.status == seen.status and order.size_matched == seen.size_matched:
                return
            closed = order.status.upper() in _CLOSED_ORDER
            order = msgspec.structs.replace(order, action="CANCELLATION" if closed else "UPDATE")
        elif order.status.upper() in _CLOSED_ORDER:
            order = msgspec.structs.replace(order, action="CANCELLATION")
        self.observe(order)
        out.append(order)

    def _diff_trade(self, trade: UserTrade, out: list[Event]) -> bool:
        seen = self._trades.get(trade.trade_id)
        if seen is not None and _rank(trade.status) <= _rank(seen[0]):
            return False
        self.observe(trade)
        out.append(trade)
        return True

    def _after_s(self) -> int | None:
        """Trades matched after this (Unix s) can have changed in the gap: the disconnection time, or
        earlier if a trade seen before it had not settled yet."""
        if self._down_since_s is None:
            return None
        start = self._down_since_s
        for status, match_ms in self._trades.values():
            if _rank(status) < 3 and match_ms:
                start = min(start, match_ms / 1000)
        return int(start) - _AFTER_MARGIN_S


def _trim(table: OrderedDict[str, Any]) -> None:
    while len(table) > _KEEP:
        table.popitem(last=False)


def _trade_status(status: str) -> str:
    return status.upper().removeprefix("TRADE_STATUS_")


def _rank(status: str) -> int:
    return _TRADE_RANK.get(_trade_status(status), -1)


def _key(event: Event) -> tuple[str, str, str] | None:
    if isinstance(event, UserOrder):
        return (event.order_id, event.status.upper(), _norm(event.size_matched))
    if isinstance(event, UserTrade):
        return (event.trade_id, _trade_status(event.status), "")
    return None


def _norm(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _order(wire: WireOrder, action: str, ts_recv_ns: int) -> UserOrder:
    event = user_event(wire, ts_recv_ns)
    return msgspec.structs.replace(event, action=action, source="rest_reconcile")


def _trade(wire: WireTrade, ts_recv_ns: int) -> UserTrade:
    event = user_event(wire, ts_recv_ns)
    stamp = event.ts_event_ms or event.last_update_ms or event.match_time_ms
    # Ranked and de-duplicated in the socket's spelling (CONFIRMED, not TRADE_STATUS_CONFIRMED).
    return msgspec.structs.replace(
        event, source="rest_reconcile", status=_trade_status(event.status), ts_event_ms=stamp
    )
