"""Retention on a real SQLite file with an injected wall clock: old rows go, recent ones stay, per-owner caps."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.model.agent_records import AgentRecord
from polymarket_realtime.storage import activity as activity_db, agents as agents_db
from polymarket_realtime.storage.db import Database
from polymarket_realtime.storage.retention import Retention, RetentionPolicy
from tests.virtual_clock import VirtualClock

pytestmark = pytest.mark.anyio

DAY_NS = 86_400 * 10**9
NOW_NS = 1_800_000_000 * 10**9


class FixedClock:
    def __init__(self, ns: int) -> None:
        self.ns = ns

    def monotonic(self) -> float:
        return 0.0

    def time_ns(self) -> int:
        return self.ns


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "state.sqlite3").open()
    db.write_sync(
        lambda c: [agents_db.insert_agent(c, AgentRecord(a, "price_alert", {}, None, "running", "")) for a in "AB"]
    )
    return db


def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.read_sync(lambda c: c.execute(sql).fetchall())]


async def test_prune_by_age_keeps_recent_rows(tmp_path: Path) -> None:
    with _db(tmp_path) as db:
        old, recent = NOW_NS - 40 * DAY_NS, NOW_NS - 2 * DAY_NS

        def fill(c: sqlite3.Connection) -> None:
            for i in range(7):  # ids 1..7 are 40 days old, 8..10 two days old
                ts = old + i
                agents_db.insert_agent_log(c, "A", ts, "info", f"old {i}")
                agents_db.insert_alert(c, "A", ts, "1", D("0.5"), f"old alert {i}")
                activity_db.insert_activity(c, ts, "alert", "A", f"old entry {i}")
            for i in range(3):
                agents_db.insert_agent_log(c, "B", recent + i, "info", f"new {i}")
                agents_db.insert_alert(c, "B", recent + i, "1", D("0.5"), f"new alert {i}")
                activity_db.insert_activity(c, recent + i, "alert", "B", f"new entry {i}")

        db.write_sync(fill)
        policy = RetentionPolicy(max_age_days=30, agent_log_rows=0, activity_rows=0, batch_rows=3)
        retention = Retention(db, policy, clock=FixedClock(NOW_NS))
        result = await retention.prune()
        assert result.error is None
        assert result.deleted == {"agent_logs": 7, "alerts": 7, "activity": 7}
        assert result.batches >= 3 * 3  # 7 rows in batches of 3: 3, 3, 1 per table
        assert result.cutoff_ms == (NOW_NS - 30 * DAY_NS) // 1_000_000
        assert _rows(db, "SELECT message FROM agent_logs ORDER BY id") == [(f"new {i}",) for i in range(3)]
        assert _rows(db, "SELECT message FROM alerts ORDER BY id") == [(f"new alert {i}",) for i in range(3)]
        assert _rows(db, "SELECT message FROM activity ORDER BY seq") == [(f"new entry {i}",) for i in range(3)]
        assert retention.status()["last_prune"]["deleted"]["activity"] == 7 and retention.runs == 1
        # Nothing more to do on a second pass; a later clock ages the rest out.
        assert sum((await retention.prune()).deleted.values()) == 0
        retention.clock = FixedClock(NOW_NS + 40 * DAY_NS)
        await retention.prune()
        assert _rows(db, "SELECT COUNT(*) FROM agent_logs") == [(0,)]
        # ...except the newest activity entry, so latest_seq never goes backwards for a cursor.
        assert _rows(db, "SELECT message FROM activity") == [("new entry 2",)]
        assert db.read_sync(lambda c: activity_db.read_activity(c, 0, 10))[1] == 10


async def test_prune_by_count_per_owner(tmp_path: Path) -> None:
    with _db(tmp_path) as db:

        def fill(c: sqlite3.Connection) -> None:
            for i in range(25):
                agents_db.insert_agent_log(c, "A", NOW_NS + i, "info", f"A{i}")
                activity_db.insert_activity(c, NOW_NS + i, "order_filled", "ps-1", f"s{i}")
            for i in range(3):
                agents_db.insert_agent_log(c, "B", NOW_NS + i, "info", f"B{i}")
                activity_db.insert_activity(c, NOW_NS + i, "system_started", "system", f"y{i}")

        db.write_sync(fill)
        policy = RetentionPolicy(max_age_days=0, agent_log_rows=10, activity_rows=4, batch_rows=6)
        result = await Retention(db, policy, clock=FixedClock(NOW_NS)).prune()
        assert result.cutoff_ms is None and result.deleted == {"agent_logs": 15, "alerts": 0, "activity": 21}
        logs = _rows(db, "SELECT agent_id, message FROM agent_logs ORDER BY id")
        assert [m for a, m in logs if a == "A"] == [f"A{i}" for i in range(15, 25)]  # the newest 10
        assert [m for a, m in logs if a == "B"] == ["B0", "B1", "B2"]  # under the cap: untouched
        activity = _rows(db, "SELECT subject, message FROM activity ORDER BY seq")
        assert [m for s, m in activity if s == "ps-1"] == [f"s{i}" for i in range(21, 25)]
        assert [m for s, m in activity if s == "system"] == ["y0", "y1", "y2"]


def _size_on_disk(path: Path) -> int:
    return os.stat(path).st_size if path.exists() else 0


async def test_database_size_counts_file_and_wal(tmp_path: Path) -> None:
    with _db(tmp_path) as db:
        db.write_sync(lambda c: [agents_db.insert_agent_log(c, "A", i, "info", "x" * 500) for i in range(200)])
        size = await db.size()
        wal = tmp_path / "state.sqlite3-wal"
        assert size["file_bytes"] == _size_on_disk(tmp_path / "state.sqlite3")
        assert size["wal_bytes"] == _size_on_disk(wal) > 0
        assert size["total_bytes"] == size["file_bytes"] + size["wal_bytes"]
        await Retention(db, RetentionPolicy(agent_log_rows=1), clock=FixedClock(NOW_NS)).prune()
        db.read_sync(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert (await db.size())["free_bytes"] > 0  # deleted rows leave pages for reuse


async def test_run_prunes_then_sleeps_the_interval_through_the_injected_sleep(tmp_path: Path) -> None:
    clock = VirtualClock()
    with _db(tmp_path) as db:
        policy = RetentionPolicy(max_age_days=30, interval_s=3600.0)
        retention = Retention(db, policy, clock=FixedClock(NOW_NS), sleep=clock.sleep)
        async with anyio.create_task_group() as tg:
            tg.start_soon(retention.run)
            await clock.wait_sleepers(1)  # the first pass ran at once, then it sleeps on the virtual clock
            assert retention.runs == 1 and clock.next_deadline() == clock.now + 3600.0
            await clock.advance_to(clock.now + 3599.0)
            assert retention.runs == 1
            await clock.advance_to(clock.now + 1.0)  # exactly one interval later: the second pass
            await retention.changed.wait_for(lambda: retention.runs == 2, 10)
            assert retention.runs == 2
            tg.cancel_scope.cancel()
