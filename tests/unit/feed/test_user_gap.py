"""The gap reconciler's diff rules: stale REST answers and socket repeats never produce a second event.

The REST side is an in-memory table standing in for ``/data/orders`` and ``/data/trades`` rows (the paging
and HTTP side is covered end to end in ``tests/integration/test_user_gap.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from polymarket_realtime.feed.user_gap import UserGapReconciler
from polymarket_realtime.model.events import UserOrder, UserTrade
from polymarket_realtime.venues.polymarket.schemas import WireOrder, WireTrade
from polymarket_realtime.venues.polymarket.user_rest import order_from_row, trade_from_row

pytestmark = pytest.mark.anyio

MARKET = "0x" + "ab" * 32
ASSET = "123456"


class Rows:
    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.closed: dict[str, dict[str, Any]] = {}
        self.trades: list[dict[str, Any]] = []
        self.trade_queries: list[int | None] = []

    # Parsed like UserRestClient.open_orders / recent_trades / order do.
    async def open_orders(self, *, market: str | None = None) -> list[WireOrder]:
        return [order_from_row(r) for r in self.orders if market in (None, r["market"])]

    async def recent_trades(
        self, *, market: str | None = None, limit: int = 50, after: int | None = None
    ) -> list[WireTrade]:
        self.trade_queries.append(after)
        return [trade_from_row(r) for r in self.trades if market in (None, r["market"])][:limit]

    async def order(self, order_id: str) -> WireOrder | None:
        row = self.closed.get(order_id)
        return None if row is None else order_from_row(row)


def order_row(oid: str, matched: str, status: str = "LIVE") -> dict[str, Any]:
    return {
        "id": oid,
        "market": MARKET,
        "asset_id": ASSET,
        "side": "BUY",
        "price": "0.5",
        "original_size": "100",
        "size_matched": matched,
        "status": status,
        "created_at": 1_800_000_000,
    }


def trade_row(tid: str, status: str, order_id: str = "") -> dict[str, Any]:
    makers = [{"order_id": order_id, "matched_amount": "10", "price": "0.5", "asset_id": ASSET}] if order_id else []
    return {
        "id": tid,
        "market": MARKET,
        "asset_id": ASSET,
        "side": "SELL",
        "price": "0.5",
        "size": "10",
        "status": f"TRADE_STATUS_{status}",
        "match_time": "1800000000",
        "last_update": "1800000005",
        "maker_orders": makers,
    }


def live_order(oid: str, matched: str, action: str = "UPDATE") -> UserOrder:
    return UserOrder(
        order_id=oid,
        market=MARKET,
        asset_id=ASSET,
        action=action,
        side="BUY",
        price=Decimal("0.5"),
        original_size=Decimal(100),
        size_matched=Decimal(matched),
        status="LIVE",
    )


def live_trade(tid: str, status: str) -> UserTrade:
    return UserTrade(
        trade_id=tid,
        market=MARKET,
        asset_id=ASSET,
        side="SELL",
        price=Decimal("0.5"),
        size=Decimal(10),
        status=status,
        match_time_ms=1_800_000_000_000,
    )


async def test_stale_rest_answers_emit_nothing_and_socket_repeats_are_dropped() -> None:
    rows = Rows()
    gap = UserGapReconciler(rows)
    gap.observe(live_order("o1", "50"))
    gap.observe(live_trade("t1", "MINED"))
    gap.disconnected(1_800_000_100.0)
    # REST read older than what the new socket already delivered: fewer fills, an earlier trade status.
    rows.orders = [order_row("o1", "20")]
    rows.trades = [trade_row("t1", "MATCHED"), trade_row("t2", "CONFIRMED", order_id="o2")]
    rows.closed["o2"] = order_row("o2", "10", status="CANCELED")
    events = await gap.reconcile([MARKET], 1)
    assert [(type(e).__name__, getattr(e, "status", "")) for e in events] == [
        ("UserTrade", "CONFIRMED"),
        ("UserOrder", "CANCELED"),
    ]
    assert all(e.source == "rest_reconcile" for e in events)  # type: ignore[union-attr]
    assert isinstance(events[1], UserOrder) and events[1].action == "CANCELLATION" and events[1].order_id == "o2"
    # Trades matched before the disconnection but unsettled are re-read too (t1 matched at 1_800_000_000).
    assert rows.trade_queries == [1_800_000_000 - 120]

    # The socket then repeats t2 CONFIRMED: dropped once; a new status passes.
    assert gap.duplicate(live_trade("t2", "CONFIRMED")) is True
    assert gap.duplicate(live_trade("t2", "CONFIRMED")) is False
    assert gap.duplicate(live_trade("t1", "CONFIRMED")) is False
    assert gap.duplicates_dropped == 1

    # A second reconciliation with nothing new emits nothing.
    assert await gap.reconcile([MARKET], 2) == []


async def test_new_fill_and_vanished_order_become_update_and_cancellation() -> None:
    rows = Rows()
    gap = UserGapReconciler(rows)
    gap.observe(live_order("o1", "10", action="PLACEMENT"))
    gap.observe(live_order("o3", "0", action="PLACEMENT"))
    rows.orders = [order_row("o1", "60"), order_row("o4", "0")]
    rows.closed["o3"] = order_row("o3", "0", status="CANCELED")
    events = await gap.reconcile(None, 1)
    summary = [(e.order_id, e.action, str(e.size_matched)) for e in events if isinstance(e, UserOrder)]
    assert summary == [("o1", "UPDATE", "60"), ("o4", "PLACEMENT", "0"), ("o3", "CANCELLATION", "0")]
    assert gap.recovered == 3
