"""Agents, their logs and alerts (rows of ``agents``, ``agent_logs``, ``alerts``).

Every function takes an open connection so callers compose several of them inside one
:meth:`~.db.Database.write` transaction. Decimals go in and out as TEXT.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from ..model.agent_records import AgentRecord, AlertRecord, LogRecord
from .columns import to_decimal

__all__ = [
    "insert_agent",
    "insert_agent_log",
    "insert_alert",
    "load_agents",
    "read_agent_logs",
    "read_alerts",
    "update_agent",
]


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


def insert_alert(conn: sqlite3.Connection, agent_id: str, ts_ns: int, token_id: str, price: Decimal, msg: str) -> int:
    cur = conn.execute(
        "INSERT INTO alerts(agent_id, ts_ns, token_id, price, message) VALUES (?,?,?,?,?)",
        (agent_id, ts_ns, token_id, str(price), msg),
    )
    return int(cur.lastrowid or 0)


def read_alerts(conn: sqlite3.Connection, agent_id: str, limit: int = 20) -> list[AlertRecord]:
    rows = conn.execute("SELECT * FROM alerts WHERE agent_id = ? ORDER BY id DESC LIMIT ?", (agent_id, limit))
    return [
        AlertRecord(r["id"], r["agent_id"], r["ts_ns"], r["token_id"], to_decimal(r["price"]), r["message"])
        for r in rows
    ]
