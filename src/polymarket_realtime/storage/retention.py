"""Bounded history: prune agent logs, alerts and the activity feed by age and by count per owner.

* Owners: an agent owns its log lines and alerts; an activity entry belongs to its ``subject`` (a
  session, an agent or ``system``). Each owner keeps at most its newest ``*_rows`` rows, and rows older
  than ``max_age_days`` go whatever the count. 0 turns a limit off.
* Pruning runs as a background task of the paper extension, every ``interval_s``: each batch of at
  most ``batch_rows`` deletes is one short :meth:`Database.write` on a worker thread, so it never runs
  on the event loop or the socket-reading path and holds the write lock only for one batch at a time
  (writers queued behind it go between batches).
* The newest activity entry is never removed, so ``latest_seq`` never goes backwards for a reader
  holding a cursor; sequence numbers are never reused (``AUTOINCREMENT``), so a cursor older than the
  oldest kept entry simply continues from there.
* Deleted rows leave free pages that SQLite reuses, so the file stops growing at its steady-state size
  rather than shrinking (``VACUUM`` would block writers; it is not run).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Final

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from .activity import ChangeSignal
from .db import Database

__all__ = ["PruneResult", "Retention", "RetentionPolicy"]

log = logging.getLogger(__name__)
_NS_PER_DAY: Final = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    max_age_days: float = 30.0
    agent_log_rows: int = 20_000
    """Per agent, for its log lines and (separately) its alerts."""
    activity_rows: int = 20_000
    """Per activity subject (session, agent or ``system``)."""
    interval_s: float = 600.0
    batch_rows: int = 2_000


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    key: str
    owner: str
    keep_newest: bool = False


_AGENT_LOGS = _Table("agent_logs", "id", "agent_id")
_ALERTS = _Table("alerts", "id", "agent_id")
_ACTIVITY = _Table("activity", "seq", "subject", keep_newest=True)


@dataclass(slots=True)
class PruneResult:
    at_ms: int
    """Wall-clock time the prune started (the injected clock)."""
    cutoff_ms: int | None
    """Rows older than this went (None: no age limit)."""
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    duration_ms: float = 0.0
    error: str | None = None


class Retention:
    def __init__(
        self,
        db: Database,
        policy: RetentionPolicy,
        *,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        """Between passes: ``anyio.sleep`` in production, a virtual clock's sleep in tests."""
        self.last: PruneResult | None = None
        self.runs = 0
        self.changed = ChangeSignal()
        """Notified after every prune pass."""

    def _limits(self) -> list[tuple[_Table, int]]:
        p = self.policy
        return [(_AGENT_LOGS, p.agent_log_rows), (_ALERTS, p.agent_log_rows), (_ACTIVITY, p.activity_rows)]

    async def prune(self) -> PruneResult:
        """One pass over every table; never raises (a failure is logged and kept in :attr:`last`)."""
        now_ns = self.clock.time_ns()
        cutoff_ns = None if self.policy.max_age_days <= 0 else now_ns - int(self.policy.max_age_days * _NS_PER_DAY)
        result = PruneResult(at_ms=now_ns // 1_000_000, cutoff_ms=None if cutoff_ns is None else cutoff_ns // 1_000_000)
        started = time.perf_counter()
        batch = self.policy.batch_rows
        try:
            for table, max_rows in self._limits():
                deleted = 0
                if cutoff_ns is not None:
                    deleted += await self._batches(
                        result, partial(_delete_older, t=table, cutoff_ns=cutoff_ns, batch=batch)
                    )
                if max_rows > 0:
                    for owner in await self.db.read(partial(_owners, t=table)):
                        bound = await self.db.read(partial(_count_bound, t=table, owner=owner, max_rows=max_rows))
                        if bound is not None:
                            deleted += await self._batches(
                                result, partial(_delete_owner, t=table, owner=owner, bound=bound, batch=batch)
                            )
                result.deleted[table.name] = deleted
        except Exception as exc:  # a background task: report in status, never take the server down
            log.exception("retention: prune failed")
            result.error = f"{type(exc).__name__}: {exc}"
        result.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        self.last = result
        self.runs += 1
        self.changed.notify()
        if any(result.deleted.values()):
            log.info("retention: pruned %s in %d batches", result.deleted, result.batches)
        return result

    async def _batches(self, result: PruneResult, delete_batch: Callable[[sqlite3.Connection], int]) -> int:
        total = 0
        while True:
            count = await self.db.write(delete_batch)
            result.batches += 1
            total += count
            if count < self.policy.batch_rows:
                return total

    async def run(self) -> None:
        """Prune now and then every ``interval_s`` until cancelled."""
        while True:
            await self.prune()
            await self.sleep(self.policy.interval_s)

    def status(self) -> dict[str, Any]:
        return {
            "policy": asdict(self.policy),
            "runs": self.runs,
            "last_prune": None if self.last is None else asdict(self.last),
        }


def _owners(conn: sqlite3.Connection, t: _Table) -> list[str]:
    # A skip-scan over the (owner, key) index: one seek per distinct owner, not a pass over every row.
    sql = (
        f"WITH RECURSIVE o(v) AS (SELECT MIN({t.owner}) FROM {t.name} "
        f"UNION ALL SELECT (SELECT MIN({t.owner}) FROM {t.name} WHERE {t.owner} > o.v) FROM o WHERE o.v IS NOT NULL) "
        "SELECT v FROM o WHERE v IS NOT NULL"
    )
    return [str(r[0]) for r in conn.execute(sql)]


def _count_bound(conn: sqlite3.Connection, t: _Table, owner: str, max_rows: int) -> int | None:
    """The key of the owner's newest row beyond its ``max_rows`` newest (it and older ones go), if any."""
    row = conn.execute(
        f"SELECT {t.key} FROM {t.name} WHERE {t.owner} = ? ORDER BY {t.key} DESC LIMIT 1 OFFSET ?", (owner, max_rows)
    ).fetchone()
    return None if row is None else int(row[0])


def _delete_owner(conn: sqlite3.Connection, t: _Table, owner: str, bound: int, batch: int) -> int:
    cur = conn.execute(
        f"DELETE FROM {t.name} WHERE {t.key} IN "
        f"(SELECT {t.key} FROM {t.name} WHERE {t.owner} = ? AND {t.key} <= ? ORDER BY {t.key} LIMIT ?)",
        (owner, bound, batch),
    )
    return int(cur.rowcount)


def _delete_older(conn: sqlite3.Connection, t: _Table, cutoff_ns: int, batch: int) -> int:
    keep = f" AND {t.key} < (SELECT MAX({t.key}) FROM {t.name})" if t.keep_newest else ""
    cur = conn.execute(
        f"DELETE FROM {t.name} WHERE {t.key} IN (SELECT {t.key} FROM {t.name} WHERE ts_ns < ?{keep} LIMIT ?)",
        (cutoff_ns, batch),
    )
    return int(cur.rowcount)
