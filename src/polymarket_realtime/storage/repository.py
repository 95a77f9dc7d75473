"""Typed queries per aggregate. Every function takes an open connection so that callers compose several
of them inside one :meth:`Database.write` transaction (a fill, its order, the position, the session cash
and the activity entry commit together or not at all). Decimals go in and out as TEXT.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "ActivityRecord",
    "AgentRecord",
    "AlertRecord",
    "FillRecord",
    "LogRecord",
    "OrderRecord",
    "PositionRecord",
    "SessionRecord",
    "delete_preset",
    "get_system_value",
    "insert_activity",
    "insert_agent",
    "insert_agent_log",
    "insert_alert",
    "insert_fill",
    "insert_order",
    "insert_session",
    "insert_snapshot",
    "load_agents",
    "load_fills",
    "load_open_orders",
    "load_orders",
    "load_positions",
    "load_presets",
    "load_sessions",
    "read_activity",
    "read_agent_logs",
    "read_alerts",
    "set_system_value",
    "update_agent",
    "update_order",
    "update_session",
    "upsert_position",
    "upsert_preset",
]


def _d(value: object) -> Decimal:
    return Decimal(str(value))


def _od(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- sessions --------------------------------------------------------------------------------


@dataclass(slots=True)
class SessionRecord:
    id: str
    name: str
    state: str
    state_reason: str
    starting_cash: Decimal
    cash: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    fee_bps: Decimal | None
    risk: dict[str, str | None]
    token_ids: list[str]
    market_ids: list[str]
    peak_equity: Decimal
    day: str
    day_start_equity: Decimal
    created_ns: int
    updated_ns: int
    fee_schedules: dict[str, dict[str, str]] = field(default_factory=dict)
    """Market fee schedule per token (``rate``, ``exponent``, ``taker_only``) when Gamma published one."""


def _session(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        name=row["name"],
        state=row["state"],
        state_reason=row["state_reason"],
        starting_cash=_d(row["starting_cash"]),
        cash=_d(row["cash"]),
        realized_pnl=_d(row["realized_pnl"]),
        fees_paid=_d(row["fees_paid"]),
        fee_bps=_od(row["fee_bps"]),
        risk=json.loads(row["risk_json"]),
        token_ids=json.loads(row["token_ids_json"]),
        market_ids=json.loads(row["market_ids_json"]),
        peak_equity=_d(row["peak_equity"]),
        day=row["day"],
        day_start_equity=_d(row["day_start_equity"]),
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


# --- positions, snapshots --------------------------------------------------------------------


@dataclass(slots=True)
class PositionRecord:
    token_id: str
    size: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    cost: Decimal
    """Exact cost basis of the open size."""


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
            _d(r["size"]),
            _d(r["average_price"]),
            _d(r["realized_pnl"]),
            _d(r["cost"]) if r["cost"] is not None else _d(r["size"]) * _d(r["average_price"]),
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


# --- orders, fills ---------------------------------------------------------------------------


@dataclass(slots=True)
class OrderRecord:
    id: str
    session_id: str
    token_id: str
    side: str
    order_type: str
    size: Decimal
    limit_price: Decimal | None
    filled: Decimal
    notional: Decimal
    fees: Decimal
    fill_count: int
    status: str
    reason: str
    created_ns: int
    updated_ns: int

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.filled if self.filled > 0 else None


def _order(r: sqlite3.Row) -> OrderRecord:
    return OrderRecord(
        id=r["id"],
        session_id=r["session_id"],
        token_id=r["token_id"],
        side=r["side"],
        order_type=r["order_type"],
        size=_d(r["size"]),
        limit_price=_od(r["limit_price"]),
        filled=_d(r["filled"]),
        notional=_d(r["notional"]),
        fees=_d(r["fees"]),
        fill_count=r["fill_count"],
        status=r["status"],
        reason=r["reason"],
        created_ns=r["created_ns"],
        updated_ns=r["updated_ns"],
    )


def insert_order(conn: sqlite3.Connection, o: OrderRecord) -> None:
    conn.execute(
        "INSERT INTO orders(id, session_id, token_id, side, order_type, size, limit_price, filled, notional, fees, "
        "fill_count, status, reason, created_ns, updated_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            o.id,
            o.session_id,
            o.token_id,
            o.side,
            o.order_type,
            str(o.size),
            None if o.limit_price is None else str(o.limit_price),
            str(o.filled),
            str(o.notional),
            str(o.fees),
            o.fill_count,
            o.status,
            o.reason,
            o.created_ns,
            o.updated_ns,
        ),
    )


def update_order(conn: sqlite3.Connection, o: OrderRecord) -> None:
    conn.execute(
        "UPDATE orders SET filled = ?, notional = ?, fees = ?, fill_count = ?, status = ?, reason = ?, updated_ns = ? "
        "WHERE id = ?",
        (str(o.filled), str(o.notional), str(o.fees), o.fill_count, o.status, o.reason, o.updated_ns, o.id),
    )


def fill_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Fills per session (the ``trades`` of a session view), read once at start-up."""
    return {r[0]: int(r[1]) for r in conn.execute("SELECT session_id, COUNT(*) FROM fills GROUP BY session_id")}


def load_open_orders(conn: sqlite3.Connection) -> list[OrderRecord]:
    return [_order(r) for r in conn.execute("SELECT * FROM orders WHERE status = 'open' ORDER BY created_ns, id")]


def load_orders(conn: sqlite3.Connection, session_id: str, limit: int = 50) -> list[OrderRecord]:
    rows = conn.execute(
        "SELECT * FROM orders WHERE session_id = ? ORDER BY created_ns DESC, id DESC LIMIT ?", (session_id, limit)
    )
    return [_order(r) for r in rows]


@dataclass(slots=True)
class FillRecord:
    id: str
    order_id: str
    session_id: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: str
    ts_ns: int


def insert_fill(conn: sqlite3.Connection, f: FillRecord) -> None:
    # A primary-key clash means a duplicate fill: the whole transaction fails, so nothing doubles.
    conn.execute(
        "INSERT INTO fills(id, order_id, session_id, token_id, side, price, size, fee, liquidity, ts_ns) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            f.id,
            f.order_id,
            f.session_id,
            f.token_id,
            f.side,
            str(f.price),
            str(f.size),
            str(f.fee),
            f.liquidity,
            f.ts_ns,
        ),
    )


def load_fills(conn: sqlite3.Connection, session_id: str, limit: int = 20) -> list[FillRecord]:
    rows = conn.execute(
        "SELECT * FROM fills WHERE session_id = ? ORDER BY ts_ns DESC, id DESC LIMIT ?", (session_id, limit)
    )
    return [
        FillRecord(
            r["id"],
            r["order_id"],
            r["session_id"],
            r["token_id"],
            r["side"],
            _d(r["price"]),
            _d(r["size"]),
            _d(r["fee"]),
            r["liquidity"],
            r["ts_ns"],
        )
        for r in rows
    ]


# --- agents, logs, alerts, presets -------------------------------------------------------------


@dataclass(slots=True)
class AgentRecord:
    id: str
    kind: str
    config: dict[str, Any]
    session_id: str | None
    state: str
    state_reason: str
    memory: dict[str, Any] = field(default_factory=dict)
    created_ns: int = 0
    updated_ns: int = 0


def insert_agent(conn: sqlite3.Connection, a: AgentRecord) -> None:
    conn.execute(
        "INSERT INTO agents(id, kind, config_json, session_id, state, state_reason, memory_json, created_ns, "
        "updated_ns) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            a.id,
            a.kind,
            json.dumps(a.config),
            a.session_id,
            a.state,
            a.state_reason,
            json.dumps(a.memory),
            a.created_ns,
            a.updated_ns,
        ),
    )


def update_agent(conn: sqlite3.Connection, a: AgentRecord) -> None:
    conn.execute(
        "UPDATE agents SET state = ?, state_reason = ?, memory_json = ?, updated_ns = ? WHERE id = ?",
        (a.state, a.state_reason, json.dumps(a.memory), a.updated_ns, a.id),
    )


def load_agents(conn: sqlite3.Connection) -> list[AgentRecord]:
    return [
        AgentRecord(
            r["id"],
            r["kind"],
            json.loads(r["config_json"]),
            r["session_id"],
            r["state"],
            r["state_reason"],
            json.loads(r["memory_json"]),
            r["created_ns"],
            r["updated_ns"],
        )
        for r in conn.execute("SELECT * FROM agents ORDER BY created_ns, id")
    ]


@dataclass(slots=True)
class LogRecord:
    id: int
    agent_id: str
    ts_ns: int
    level: str
    message: str


def insert_agent_log(conn: sqlite3.Connection, agent_id: str, ts_ns: int, level: str, message: str) -> None:
    conn.execute(
        "INSERT INTO agent_logs(agent_id, ts_ns, level, message) VALUES (?,?,?,?)", (agent_id, ts_ns, level, message)
    )


def read_agent_logs(
    conn: sqlite3.Connection, agent_id: str, *, lines: int, level: str | None, contains: str | None
) -> list[LogRecord]:
    """The newest ``lines`` entries matching the filters, oldest first."""
    sql = "SELECT * FROM agent_logs WHERE agent_id = ?"
    args: list[object] = [agent_id]
    if level is not None:
        sql += " AND level = ?"
        args.append(level)
    if contains:
        sql += " AND instr(lower(message), lower(?)) > 0"
        args.append(contains)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(lines)
    rows = conn.execute(sql, args).fetchall()
    return [LogRecord(r["id"], r["agent_id"], r["ts_ns"], r["level"], r["message"]) for r in reversed(rows)]


@dataclass(slots=True)
class AlertRecord:
    id: int
    agent_id: str
    ts_ns: int
    token_id: str
    price: Decimal
    message: str


def insert_alert(conn: sqlite3.Connection, agent_id: str, ts_ns: int, token_id: str, price: Decimal, msg: str) -> int:
    cur = conn.execute(
        "INSERT INTO alerts(agent_id, ts_ns, token_id, price, message) VALUES (?,?,?,?,?)",
        (agent_id, ts_ns, token_id, str(price), msg),
    )
    return int(cur.lastrowid or 0)


def read_alerts(conn: sqlite3.Connection, agent_id: str, limit: int = 20) -> list[AlertRecord]:
    rows = conn.execute("SELECT * FROM alerts WHERE agent_id = ? ORDER BY id DESC LIMIT ?", (agent_id, limit))
    return [AlertRecord(r["id"], r["agent_id"], r["ts_ns"], r["token_id"], _d(r["price"]), r["message"]) for r in rows]


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


# --- activity, system ------------------------------------------------------------------------


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


def get_system_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM system_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_system_value(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO system_state(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
