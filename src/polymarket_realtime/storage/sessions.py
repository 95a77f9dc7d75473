"""Paper sessions, their positions and equity snapshots (rows of ``sessions``, ``positions``, ``snapshots``).

Every function takes an open connection so callers compose several of them inside one
:meth:`~.db.Database.write` transaction. Decimals go in and out as TEXT.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from ..model.paper_records import PositionRecord, SessionRecord
from .columns import to_decimal, to_optional_decimal

__all__ = [
    "insert_session",
    "insert_snapshot",
    "load_equity",
    "load_positions",
    "load_sessions",
    "update_session",
    "upsert_position",
]


def _session(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        name=row["name"],
        state=row["state"],
        state_reason=row["state_reason"],
        starting_cash=to_decimal(row["starting_cash"]),
        cash=to_decimal(row["cash"]),
        realized_pnl=to_decimal(row["realized_pnl"]),
        fees_paid=to_decimal(row["fees_paid"]),
        fee_bps=to_optional_decimal(row["fee_bps"]),
        risk=json.loads(row["risk_json"]),
        token_ids=json.loads(row["token_ids_json"]),
        market_ids=json.loads(row["market_ids_json"]),
        peak_equity=to_decimal(row["peak_equity"]),
        day=row["day"],
        day_start_equity=to_decimal(row["day_start_equity"]),
        created_ns=row["created_ns"],
        updated_ns=row["updated_ns"],
        fee_schedules=json.loads(row["fee_schedules_json"] or "{}"),
    )


def _session_values(s: SessionRecord) -> tuple[object, ...]:
    return (
        s.name,
        s.state,
        s.state_reason,
        str(s.starting_cash),
        str(s.cash),
        str(s.realized_pnl),
        str(s.fees_paid),
        None if s.fee_bps is None else str(s.fee_bps),
        json.dumps(s.risk),
        json.dumps(s.token_ids),
        json.dumps(s.market_ids),
        str(s.peak_equity),
        s.day,
        str(s.day_start_equity),
        s.created_ns,
        s.updated_ns,
        json.dumps(s.fee_schedules),
        s.id,
    )


_SESSION_COLUMNS = (
    "name, state, state_reason, starting_cash, cash, realized_pnl, fees_paid, fee_bps, risk_json, "
    "token_ids_json, market_ids_json, peak_equity, day, day_start_equity, created_ns, updated_ns, "
    "fee_schedules_json, id"
)


def insert_session(conn: sqlite3.Connection, s: SessionRecord) -> None:
    conn.execute(f"INSERT INTO sessions({_SESSION_COLUMNS}) VALUES ({','.join('?' * 18)})", _session_values(s))


def update_session(conn: sqlite3.Connection, s: SessionRecord) -> None:
    sets = ", ".join(f"{c.strip()} = ?" for c in _SESSION_COLUMNS.split(",")[:-1])
    cur = conn.execute(f"UPDATE sessions SET {sets} WHERE id = ?", _session_values(s))
    if cur.rowcount != 1:
        raise sqlite3.IntegrityError(f"session {s.id} does not exist")


def load_sessions(conn: sqlite3.Connection) -> list[SessionRecord]:
    return [_session(r) for r in conn.execute("SELECT * FROM sessions ORDER BY created_ns, id")]


def upsert_position(conn: sqlite3.Connection, session_id: str, p: PositionRecord) -> None:
    conn.execute(
        "INSERT INTO positions(session_id, token_id, size, average_price, realized_pnl, cost) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(session_id, token_id) DO UPDATE SET size = excluded.size, "
        "average_price = excluded.average_price, realized_pnl = excluded.realized_pnl, cost = excluded.cost",
        (session_id, p.token_id, str(p.size), str(p.average_price), str(p.realized_pnl), str(p.cost)),
    )


def load_positions(conn: sqlite3.Connection, session_id: str) -> list[PositionRecord]:
    rows = conn.execute("SELECT * FROM positions WHERE session_id = ? ORDER BY token_id", (session_id,))
    return [
        PositionRecord(
            r["token_id"],
            to_decimal(r["size"]),
            to_decimal(r["average_price"]),
            to_decimal(r["realized_pnl"]),
            to_decimal(r["cost"]) if r["cost"] is not None else to_decimal(r["size"]) * to_decimal(r["average_price"]),
        )
        for r in rows
    ]


def insert_snapshot(
    conn: sqlite3.Connection, session_id: str, ts_ns: int, cash: Decimal, equity: Decimal, positions: dict[str, str]
) -> None:
    conn.execute(
        "INSERT INTO snapshots(session_id, ts_ns, cash, equity, positions_json) VALUES (?,?,?,?,?)",
        (session_id, ts_ns, str(cash), str(equity), json.dumps(positions)),
    )


def load_equity(conn: sqlite3.Connection, session_id: str, limit: int) -> list[tuple[int, str, str]]:
    """The session's last ``limit`` snapshots as ``(ts_ns, cash, equity)``, oldest first."""
    rows = conn.execute(
        "SELECT ts_ns, cash, equity FROM snapshots WHERE session_id = ? ORDER BY id DESC LIMIT ?",
        (session_id, limit),
    ).fetchall()
    return [(int(r["ts_ns"]), str(r["cash"]), str(r["equity"])) for r in reversed(rows)]
