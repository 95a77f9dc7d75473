"""Process-wide key/values (rows of ``system_state``), e.g. the global halt.

Every function takes an open connection so callers compose several of them inside one
:meth:`~.db.Database.write` transaction. Decimals go in and out as TEXT.
"""

from __future__ import annotations

import sqlite3

__all__ = ["get_system_value", "set_system_value"]


def get_system_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM system_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_system_value(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO system_state(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
