"""The system-wide audit feed (state changes, fills, risk events, agent errors) with a cursor.

Writers add entries with :meth:`ActivityFeed.add` *inside* their own transaction, so an entry commits
with the change it describes; after the commit they call :meth:`ActivityFeed.published` to wake
long-pollers and notify MCP clients (``polymarket://activity``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from . import repository as repo
from .db import Database

__all__ = ["ACTIVITY_URI", "ActivityFeed"]

ACTIVITY_URI = "polymarket://activity"


class ActivityFeed:
    def __init__(self, db: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._changed = anyio.Event()

    def add(
        self, conn: sqlite3.Connection, kind: str, subject: str, message: str, data: dict[str, Any] | None = None
    ) -> int:
        return repo.insert_activity(conn, self._clock.time_ns(), kind, subject, message, data)

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def published(self) -> None:
        """Call after committing new entries (from the event loop thread)."""
        self._changed.set()
        self._changed = anyio.Event()
        for callback in self._listeners:
            callback()

    async def record(self, kind: str, subject: str, message: str, data: dict[str, Any] | None = None) -> int:
        """A stand-alone entry in its own transaction."""
        seq = await self._db.write(lambda c: self.add(c, kind, subject, message, data))
        self.published()
        return seq

    async def read(self, after_seq: int, limit: int) -> tuple[list[repo.ActivityRecord], int]:
        return await self._db.read(lambda c: repo.read_activity(c, after_seq, limit))

    async def wait(self, timeout_s: float) -> bool:
        """Wait for the next published entry; False on timeout."""
        with anyio.move_on_after(timeout_s):
            await self._changed.wait()
            return True
        return False
