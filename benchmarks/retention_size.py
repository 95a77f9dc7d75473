"""Bytes per stored history row (agent log line, alert, activity entry) and the cost of one prune batch.

Run: ``.venv/bin/python benchmarks/retention_size.py [--quick]``. Fills a fresh database (the real
schema, WAL, ``synchronous=FULL``) with rows shaped like the ones agents and paper sessions write, and
reports on-disk bytes per row including indexes (used pages only, so the figure does not depend on
when the WAL was checkpointed), then times pruning them (the longest batch is how long pruning holds
the write lock at a time). The README's retention defaults are sized from these figures.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio

from polymarket_realtime.model.agent_records import AgentRecord
from polymarket_realtime.storage import activity as activity_db, agents as agents_db
from polymarket_realtime.storage.db import Database
from polymarket_realtime.storage.retention import Retention, RetentionPolicy

TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
AGENTS = [f"ag-{i:010x}" for i in range(20)]
SESSIONS = [f"ps-{i:010x}" for i in range(10)]


def used_bytes(db: Database) -> int:
    def measure(conn: sqlite3.Connection) -> int:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
        return int((pages - free) * size)

    return db.read_sync(measure)


def log_line(i: int) -> tuple[str, str]:
    if i % 3:
        return (
            "info",
            f"BUY 10 at 0.4{i % 10} filled: avg 0.4{i % 10}1, fee 0.0123, position 20 (mean 0.47, below by 0.021)",
        )
    return "info", f"price alert: token {TOKEN} mid 0.5{i % 10} moved up 0.02 (threshold 0.02) from 0.4{i % 10}"


def activity_row(i: int) -> tuple[str, str, str, dict[str, object]]:
    subject = SESSIONS[i % len(SESSIONS)]
    data = {
        "order_id": f"po-{i:012x}",
        "token_id": TOKEN,
        "side": "BUY",
        "price": "0.47",
        "size": "10",
        "fee": "0.0123",
        "liquidity": "taker",
    }
    return "order_filled", subject, f"session {subject}: BUY 10 of {TOKEN[:12]}... filled at 0.47 (fee 0.0123)", data


def fill(db: Database, n: int, insert: Callable[[sqlite3.Connection, int], None]) -> float:
    before = used_bytes(db)
    for start in range(0, n, 1000):
        db.write_sync(lambda c, s=start: [insert(c, i) for i in range(s, min(n, s + 1000))])
    return (used_bytes(db) - before) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    rows = 20_000 if parser.parse_args().quick else 200_000
    with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "state.sqlite3") as db:
        db.write_sync(
            lambda c: [
                agents_db.insert_agent(c, AgentRecord(a, "price_alert", {"token_id": TOKEN}, None, "running", ""))
                for a in AGENTS
            ]
        )

        def insert_log(c: sqlite3.Connection, i: int) -> None:
            level, message = log_line(i)
            agents_db.insert_agent_log(c, AGENTS[i % len(AGENTS)], 1_000 + i, level, message)

        def insert_alert(c: sqlite3.Connection, i: int) -> None:
            from decimal import Decimal

            agents_db.insert_alert(c, AGENTS[i % len(AGENTS)], 1_000 + i, TOKEN, Decimal("0.52"), log_line(0)[1])

        def insert_activity(c: sqlite3.Connection, i: int) -> None:
            kind, subject, message, data = activity_row(i)
            activity_db.insert_activity(c, 1_000 + i, kind, subject, message, data)

        per_log = fill(db, rows, insert_log)
        per_alert = fill(db, rows // 10, insert_alert)
        per_activity = fill(db, rows, insert_activity)
        print(
            f"rows: {rows:,} log lines, {rows // 10:,} alerts, {rows:,} activity entries (sample data_json "
            f"{len(json.dumps(activity_row(0)[3]))} B)"
        )
        print(f"bytes per agent log line (with indexes): {per_log:,.0f}")
        print(f"bytes per alert (with indexes):          {per_alert:,.0f}")
        print(f"bytes per activity entry (with indexes): {per_activity:,.0f}")

        # Prune everything by age, one batch at a time, timing each batch (= one write transaction).
        timings: list[float] = []
        original = db.write_sync

        def timed(fn: Callable[[sqlite3.Connection], object]) -> object:
            started = time.perf_counter()
            try:
                return original(fn)
            finally:
                timings.append((time.perf_counter() - started) * 1000)

        db.write_sync = timed  # type: ignore[method-assign]  # measuring only
        policy = RetentionPolicy(max_age_days=1, agent_log_rows=0, activity_rows=0, batch_rows=2_000)

        class Later:
            def monotonic(self) -> float:
                return 0.0

            def time_ns(self) -> int:
                return 10 * 86_400 * 1_000_000_000

        result = anyio.run(Retention(db, policy, clock=Later()).prune)
        print(
            f"prune by age: {sum(result.deleted.values()):,} rows in {result.batches} batches, "
            f"{result.duration_ms:,.0f} ms total; per batch of 2,000 rows: median "
            f"{statistics.median(timings):.1f} ms, max {max(timings):.1f} ms"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
