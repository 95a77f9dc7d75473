"""SQLite access: WAL, ``busy_timeout``, foreign keys, numbered migrations, and exactly one writer.

Contract
--------
* One connection, guarded by a :class:`threading.Lock`; every call runs on a worker thread via
  :func:`anyio.to_thread.run_sync`, never on the event loop (so never on the socket-reading path).
* :meth:`Database.write` runs a function inside ``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls
  the whole change back and ``sqlite3.Error`` becomes :class:`~polymarket_realtime.errors.StorageError`.
  When ``write`` returns, the change is durable (``synchronous=FULL`` under WAL), so a tool may report it.
* :meth:`Database.read` runs a function on the same connection (no transaction is left open).
* ``*_sync`` twins exist for start-up, shutdown and pure tests.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from ..errors import StorageError
from .schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["Database"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Database:
    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def open(self) -> Database:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._conn = conn
            self._migrate(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Database:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.read_sync(lambda c: c.execute("PRAGMA user_version").fetchone()[0]))

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StorageError(f"database {self.path} has schema {version}, newer than this program ({SCHEMA_VERSION})")
        for number in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            logger.info("database %s migrated to schema %d", self.path, number + 1)

    # --- access ------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("database is closed")
        return self._conn

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageError(f"database busy or unavailable: {exc}") from exc
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"database write failed, nothing was changed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return result

    def read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return fn(self._connection())
            except sqlite3.Error as exc:
                raise StorageError(f"database read failed: {exc}") from exc

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, fn)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn)

    async def size(self) -> dict[str, int]:
        """Bytes on disk: the file, its write-ahead log, both together, and the free pages inside the file
        (left by deletes and reused before the file grows)."""

        def measure(conn: sqlite3.Connection) -> dict[str, int]:
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            free_pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
            file_bytes, wal_bytes = _file_size(self.path), _file_size(self.path.with_name(self.path.name + "-wal"))
            return {
                "file_bytes": file_bytes,
                "wal_bytes": wal_bytes,
                "total_bytes": file_bytes + wal_bytes,
                "free_bytes": free_pages * page_size,
            }

        return await self.read(measure)

    async def health(self) -> dict[str, object]:
        """``PRAGMA quick_check`` plus a write probe; never raises."""

        def probe(conn: sqlite3.Connection) -> str:
            conn.execute(
                "INSERT INTO system_state(key, value) VALUES('health_probe', datetime('now')) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            )
            return str(conn.execute("PRAGMA quick_check").fetchone()[0])

        try:
            check = await self.write(probe)
            return {"ok": check == "ok", "quick_check": check, "path": str(self.path), "schema": SCHEMA_VERSION}
        except Exception as exc:  # health is a boundary: report, never raise
            return {"ok": False, "error": str(exc), "path": str(self.path), "schema": SCHEMA_VERSION}


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
