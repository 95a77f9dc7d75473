"""Named scanner weight presets (rows of ``presets``).

Every function takes an open connection so callers compose several of them inside one
:meth:`~.db.Database.write` transaction. Decimals go in and out as TEXT.
"""

from __future__ import annotations

import json
import sqlite3

__all__ = ["delete_preset", "load_presets", "upsert_preset"]


def load_presets(conn: sqlite3.Connection) -> dict[str, dict[str, float]]:
    rows = conn.execute("SELECT name, weights_json FROM weight_presets ORDER BY name")
    return {r["name"]: json.loads(r["weights_json"]) for r in rows}


def upsert_preset(conn: sqlite3.Connection, name: str, weights: dict[str, float], ts_ns: int) -> None:
    conn.execute(
        "INSERT INTO weight_presets(name, weights_json, updated_ns) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE "
        "SET weights_json = excluded.weights_json, updated_ns = excluded.updated_ns",
        (name, json.dumps(weights), ts_ns),
    )


def delete_preset(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("DELETE FROM weight_presets WHERE name = ?", (name,)).rowcount > 0
