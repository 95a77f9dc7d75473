"""The system-wide audit feed (state changes, fills, risk events, agent errors) with a cursor.

Writers add entries with :meth:`ActivityFeed.add` *inside* their own transaction, so an entry commits
with the change it describes; after the commit they call :meth:`ActivityFeed.published` to wake
long-pollers (:meth:`ActivityFeed.wait`) and listeners (the server maps them to its own notifications).
The rows themselves (:class:`ActivityRecord`, :func:`insert_activity`, :func:`read_activity`) live here too.

:class:`ChangeSignal` is the broadcast "something changed" notification the services expose so callers
(tests, long-polls) wait on state changes instead of polling.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from .db import Database

__all__ = ["ActivityFeed", "ActivityRecord", "ChangeSignal", "insert_activity", "read_activity"]


@dataclass(slots=True)
class ActivityRecord:
    seq: int
    ts_ns: int
    kind: str
    subject: str
    message: str
    data: dict[str, Any]


def insert_activity(
    conn: sqlite3.Connection, ts_ns: int, kind: str, subject: str, message: str, data: dict[str, Any] | None = None
) -> int:
    cur = conn.execute(
        "INSERT INTO activity(ts_ns, kind, subject, message, data_json) VALUES (?,?,?,?,?)",
        (ts_ns, kind, subject, message, json.dumps(data or {}, default=str)),
    )
    return int(cur.lastrowid or 0)


def read_activity(conn: sqlite3.Connection, after_seq: int, limit: int) -> tuple[list[ActivityRecord], int]:
    """Entries with ``seq > after_seq`` (oldest first) and the newest seq overall."""
    rows = conn.execute("SELECT * FROM activity WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall()
    last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM activity").fetchone()[0]
    entries = [
        ActivityRecord(r["seq"], r["ts_ns"], r["kind"], r["subject"], r["message"], json.loads(r["data_json"]))
        for r in rows
    ]
    return entries, int(last)


class ChangeSignal:
    """Broadcast wake-up: every waiter wakes on the next :meth:`notify` (no value, no queue).

    Race-free use: take :meth:`next` (or call :meth:`wait_for`) *before* checking the state it guards;
    a notify that happens after that wakes the waiter. Costs nothing while nobody waits.
    """

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    def notify(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()

    def next(self) -> anyio.Event:
        """The event the next :meth:`notify` sets."""
        if self._event is None:
            self._event = anyio.Event()
        return self._event

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Until ``predicate()`` holds, re-checked after every notify; False on timeout."""
        with anyio.move_on_after(timeout_s):
            while not predicate():
                await self.next().wait()
            return True
        return False


class ActivityFeed:
    def __init__(self, db: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._changed = ChangeSignal()

    def add(
        self, conn: sqlite3.Connection, kind: str, subject: str, message: str, data: dict[str, Any] | None = None
    ) -> int:
        return insert_activity(conn, self._clock.time_ns(), kind, subject, message, data)

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def published(self) -> None:
        """Call after committing new entries (from the event loop thread)."""
        self._changed.notify()
        for callback in self._listeners:
            callback()

    async def record(self, kind: str, subject: str, message: str, data: dict[str, Any] | None = None) -> int:
        """A stand-alone entry in its own transaction."""
        seq = await self._db.write(lambda c: self.add(c, kind, subject, message, data))
        self.published()
        return seq

    async def read(self, after_seq: int, limit: int) -> tuple[list[ActivityRecord], int]:
        return await self._db.read(lambda c: read_activity(c, after_seq, limit))

    async def latest_seq(self) -> int:
        return (await self._db.read(lambda c: read_activity(c, 0, 0)))[1]

    async def wait(self, after_seq: int, timeout_s: float) -> bool:
        """Wait until an entry with ``seq > after_seq`` is committed; True at once if one exists, False on timeout.

        Woken by :meth:`published` (this process's writers), never by polling; entries committed by
        another process are only seen on the next local publish or the initial check.
        """
        with anyio.move_on_after(timeout_s):
            while True:
                wake = self._changed.next()  # taken before the read: a publish during it still wakes us
                if await self.latest_seq() > after_seq:
                    return True
                await wake.wait()
        return False
