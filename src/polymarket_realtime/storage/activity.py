"""The system-wide audit feed (state changes, fills, risk events, agent errors) with a cursor.

Writers add entries with :meth:`ActivityFeed.add` *inside* their own transaction, so an entry commits
with the change it describes; after the commit they call :meth:`ActivityFeed.published` to wake
long-pollers (:meth:`ActivityFeed.wait`) and notify MCP clients (``polymarket://activity``).

:class:`ChangeSignal` is the broadcast "something changed" notification the services expose so callers
(tests, long-polls) wait on state changes instead of polling.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from . import repository as repo
from .db import Database

__all__ = ["ACTIVITY_URI", "ActivityFeed", "ChangeSignal"]

ACTIVITY_URI = "polymarket://activity"


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
        return repo.insert_activity(conn, self._clock.time_ns(), kind, subject, message, data)

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

    async def read(self, after_seq: int, limit: int) -> tuple[list[repo.ActivityRecord], int]:
        return await self._db.read(lambda c: repo.read_activity(c, after_seq, limit))

    async def latest_seq(self) -> int:
        return (await self._db.read(lambda c: repo.read_activity(c, 0, 0)))[1]

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
