"""``RecoveryTracker``: the snapshot-debt / resync state machine, driven without sockets or an event loop."""

from __future__ import annotations

from polymarket_realtime.feed.recovery import RecoveryTracker


def test_connection_settles_when_its_last_snapshot_arrives() -> None:
    t = RecoveryTracker()
    t.expect("market-0", ["a", "b"])
    assert t.owes("a", "market-0") and t.owed_by("market-0") == 2
    assert t.settle("a") is None
    assert t.settle("a") is None  # settling twice is harmless
    assert t.settle("b") == "market-0"
    assert t.owed_by("market-0") == 0 and not t.awaiting


def test_debt_moves_to_the_newer_connection() -> None:
    t = RecoveryTracker()
    t.expect("market-0", ["a", "b"])
    t.expect("market-1", ["a"])
    assert t.owes("a", "market-1") and not t.owes("a", "market-0")
    assert t.owed_by("market-0") == 1 and t.owed_by("market-1") == 1
    t.expect("market-1", ["a"])  # already owed there: counted once
    assert t.owed_by("market-1") == 1


def test_drop_then_fresh_snapshots_resync_once() -> None:
    t = RecoveryTracker()
    t.expect("market-0", ["a", "b"])
    t.disconnected("market-0", ["a", "b"], stopped=False)
    assert t.recovering("market-0") and not t.awaiting  # the dropped socket's debts lapse
    t.expect("market-0", ["a", "b"])  # reconnected: snapshots owed again
    assert not t.resynced("market-0")  # still owes two
    t.settle("a")
    assert t.settle("b") == "market-0"
    assert t.resynced("market-0")
    assert not t.resynced("market-0") and not t.recovering("market-0")


def test_stopped_connection_does_not_recover() -> None:
    t = RecoveryTracker()
    t.expect("market-0", ["a"])
    t.disconnected("market-0", ["a"], stopped=True)
    assert not t.recovering("market-0") and not t.awaiting


def test_connection_without_books_resyncs_on_reconnect() -> None:
    t = RecoveryTracker()
    assert not t.reconnected_without_books("user-0")
    t.disconnected("user-0", (), stopped=False)
    assert t.reconnected_without_books("user-0")
    assert not t.reconnected_without_books("user-0")
