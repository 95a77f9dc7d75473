"""TradeTracker: one logical trade per id, latest status plus history (user channel, issue 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymarket_realtime.app.user import TradeTracker
from polymarket_realtime.errors import NotFoundError
from polymarket_realtime.model.events import UserTrade


def trade(trade_id: str, status: str, update_s: int, tx: str = "") -> UserTrade:
    return UserTrade(
        trade_id=trade_id,
        market="0x" + "ab" * 32,
        asset_id="123",
        side="BUY",
        price=Decimal("0.57"),
        size=Decimal("10"),
        status=status,
        trader_side="TAKER",
        match_time_ms=1_700_000_000_000,
        last_update_ms=update_s * 1000,
        transaction_hash=tx,
        ts_recv_ns=update_s * 10**9,
    )


def test_lifecycle_with_retry_is_folded_into_one_record() -> None:
    tracker = TradeTracker()
    for i, status in enumerate(["MATCHED", "RETRYING", "MINED", "CONFIRMED"]):
        record = tracker.observe(trade("t1", status, 1_700_000_000 + i, tx="0xfeed" if i >= 2 else ""))
    assert record.status == "CONFIRMED" and record.final
    assert [h["status"] for h in record.history] == ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]
    assert record.transaction_hash == "0xfeed" and record.updated_ms == 1_700_000_003_000
    assert record.to_dict()["price"] == "0.57" and len(tracker) == 1


def test_same_event_object_and_repeated_frames_count_once() -> None:
    tracker = TradeTracker()
    event = trade("t1", "MATCHED", 1)
    tracker.observe(event)
    tracker.observe(event)  # delivered to two subscriptions
    tracker.observe(trade("t1", "MATCHED", 1))  # the venue repeating itself
    assert [h["status"] for h in tracker.get("t1").history] == ["MATCHED"]
    assert tracker.observed == 2


def test_late_non_terminal_status_does_not_undo_a_final_one() -> None:
    tracker = TradeTracker()
    tracker.observe(trade("t1", "MATCHED", 1))
    tracker.observe(trade("t1", "FAILED", 3))
    record = tracker.observe(trade("t1", "MINED", 2))  # reordered frame
    assert record.status == "FAILED" and record.final
    assert [h["status"] for h in record.history] == ["MATCHED", "FAILED", "MINED"]


def test_capacity_and_lookup_errors() -> None:
    tracker = TradeTracker(capacity=2)
    for name in ("a", "b", "c"):
        tracker.observe(trade(name, "MATCHED", 1))
    assert [r.trade_id for r in tracker.recent()] == ["c", "b"]
    with pytest.raises(NotFoundError) as info:
        tracker.get("a")
    assert "get_recent_trades" in str(info.value) and "c" in info.value.known
