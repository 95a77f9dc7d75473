"""Paper orders and their fills (rows of ``orders`` and ``fills``).

Every function takes an open connection so callers compose several of them inside one
:meth:`~.db.Database.write` transaction. Decimals go in and out as TEXT.
"""

from __future__ import annotations

import sqlite3

from ..model.paper_records import FillRecord, OrderRecord
from .columns import to_decimal, to_optional_decimal

__all__ = [
    "fill_counts",
    "insert_fill",
    "insert_order",
    "load_fills",
    "load_open_orders",
    "load_orders",
    "update_order",
]


def _order(r: sqlite3.Row) -> OrderRecord:
    return OrderRecord(
        id=r["id"],
        session_id=r["session_id"],
        token_id=r["token_id"],
        side=r["side"],
        order_type=r["order_type"],
        size=to_decimal(r["size"]),
        limit_price=to_optional_decimal(r["limit_price"]),
        filled=to_decimal(r["filled"]),
        notional=to_decimal(r["notional"]),
        fees=to_decimal(r["fees"]),
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
            to_decimal(r["price"]),
            to_decimal(r["size"]),
            to_decimal(r["fee"]),
            r["liquidity"],
            r["ts_ns"],
        )
        for r in rows
    ]
