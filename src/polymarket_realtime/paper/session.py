"""One paper session's in-memory state, the change set a transaction writes, and its result views.

:class:`LiveSession` is what the service holds per session; :class:`Change` is computed on copies and
written by :func:`write_change` inside one transaction, then :func:`apply_change` swaps it in. The
view functions turn state into the pydantic results tools return. No event loop here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..model.markets import MarketInfo
from ..model.paper_records import FillRecord, OrderRecord, PositionRecord, SessionRecord
from ..storage import orders as orders_db, sessions as sessions_db
from ..storage.activity import ActivityFeed
from . import risk as risk_mod
from .engine import FeeSchedule
from .ledger import Ledger
from .models import FillView, OrderView, PositionView, SessionDetail, SessionSummary, TokenStatus, dec
from .states import SessionState, user_actions

__all__ = [
    "Change",
    "LiveSession",
    "apply_change",
    "copy_order",
    "copy_rec",
    "detail",
    "fee_schedule_of",
    "fill_view",
    "order_view",
    "roll_day",
    "schedule_from_dict",
    "schedule_to_dict",
    "summary",
    "token_status",
    "utc_day",
    "write_change",
]


@dataclass(eq=False)
class LiveSession:
    rec: SessionRecord
    ledger: Ledger
    limits: risk_mod.RiskLimits
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    """Open (resting) orders by id."""
    fill_count: int = 0
    """Fills made in this session so far (loaded at start, counted on each commit)."""

    @property
    def state(self) -> SessionState:
        return SessionState(self.rec.state)


@dataclass
class Change:
    """Everything one transaction writes for one session."""

    rec: SessionRecord
    ledger: Ledger
    new_orders: list[OrderRecord] = field(default_factory=list)
    updated_orders: list[OrderRecord] = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    """Tokens whose position rows must be written."""
    activity: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    snapshot_equity: Decimal | None = None


def copy_rec(rec: SessionRecord) -> SessionRecord:
    return replace(rec, risk=dict(rec.risk), token_ids=list(rec.token_ids), market_ids=list(rec.market_ids))


def copy_order(order: OrderRecord) -> OrderRecord:
    return replace(order)


def utc_day(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d")


def fee_schedule_of(info: MarketInfo | None) -> FeeSchedule | None:
    """The market's fee curve when Gamma publishes one (``feeSchedule``), else ``None``.

    ``taker_only`` comes from the market info when it carries one; Gamma's schedule is taker-only
    unless it says otherwise (the venue charges makers nothing and pays them a rebate).
    """
    if info is None or info.fees_enabled is False or info.fee_rate is None:
        return None
    taker_only = info.fee_taker_only
    try:
        return FeeSchedule(
            rate=info.fee_rate,
            exponent=int(info.fee_exponent or 1),
            taker_only=True if taker_only is None else bool(taker_only),
        )
    except (ArithmeticError, ValueError):
        return None


def schedule_to_dict(schedule: FeeSchedule) -> dict[str, str]:
    return {"rate": str(schedule.rate), "exponent": str(schedule.exponent), "taker_only": str(schedule.taker_only)}


def schedule_from_dict(raw: dict[str, str]) -> FeeSchedule | None:
    """A stored schedule (:func:`schedule_to_dict`); ``None`` if the row is damaged (then ``fee_bps`` applies)."""
    try:
        return FeeSchedule(
            rate=Decimal(raw["rate"]),
            exponent=int(raw.get("exponent", "1")),
            taker_only=raw.get("taker_only") != "False",
        )
    except (KeyError, ArithmeticError, ValueError, TypeError):
        return None


def roll_day(rec: SessionRecord, equity: Decimal, now_ns: int) -> bool:
    """Start a new UTC day on ``rec`` (day start equity = ``equity``) if the day changed; True if it did."""
    today = utc_day(now_ns)
    if rec.day == today:
        return False
    rec.day, rec.day_start_equity = today, equity
    return True


# --- persistence -----------------------------------------------------------------------------


def write_change(conn: sqlite3.Connection, change: Change, activity: ActivityFeed, now_ns: int) -> None:
    """Write ``change`` (call inside :meth:`Database.write`: one transaction)."""
    rec = change.rec
    rec.cash = change.ledger.cash
    rec.realized_pnl = change.ledger.realized_pnl
    rec.fees_paid = change.ledger.fees_paid
    rec.updated_ns = now_ns
    sessions_db.update_session(conn, rec)
    for order in change.new_orders:
        orders_db.insert_order(conn, order)
    for order in change.updated_orders:
        orders_db.update_order(conn, order)
    for fill in change.fills:
        orders_db.insert_fill(conn, fill)
    for token, p in change.ledger.positions.items():
        if token in change.tokens:
            sessions_db.upsert_position(
                conn, rec.id, PositionRecord(token, p.size, p.average_price, p.realized_pnl, p.cost)
            )
    if change.snapshot_equity is not None:
        held = {p.token_id: str(p.size) for p in change.ledger.positions.values() if p.size}
        sessions_db.insert_snapshot(conn, rec.id, now_ns, change.ledger.cash, change.snapshot_equity, held)
    for kind, message, data in change.activity:
        activity.add(conn, kind, rec.id, message, data)


def apply_change(sess: LiveSession, change: Change) -> None:
    """Swap a committed change into memory."""
    sess.rec = change.rec
    sess.ledger = change.ledger
    for order in change.new_orders + change.updated_orders:
        if order.status == "open":
            sess.orders[order.id] = order
        else:
            sess.orders.pop(order.id, None)


# --- views -----------------------------------------------------------------------------------


def order_view(o: OrderRecord) -> OrderView:
    return OrderView(
        order_id=o.id,
        session_id=o.session_id,
        token_id=o.token_id,
        side=o.side,
        order_type=o.order_type,
        size=dec(o.size) or "0",
        limit_price=dec(o.limit_price),
        filled=dec(o.filled) or "0",
        remaining=dec(o.remaining) or "0",
        average_fill_price=dec(o.average_price),
        fees=dec(o.fees) or "0",
        status=o.status,
        reason=o.reason,
        created_ms=o.created_ns // 1_000_000,
    )


def fill_view(f: FillRecord) -> FillView:
    return FillView(
        fill_id=f.id,
        order_id=f.order_id,
        token_id=f.token_id,
        side=f.side,
        price=dec(f.price) or "0",
        size=dec(f.size) or "0",
        fee=dec(f.fee) or "0",
        liquidity=f.liquidity,
        ts_ms=f.ts_ns // 1_000_000,
    )


def summary(sess: LiveSession, marks: dict[str, Decimal | None]) -> SessionSummary:
    return SessionSummary(
        session_id=sess.rec.id,
        name=sess.rec.name,
        state=sess.rec.state,
        state_reason=sess.rec.state_reason,
        cash=dec(sess.ledger.cash) or "0",
        equity=dec(sess.ledger.equity(marks)) or "0",
        realized_pnl=dec(sess.ledger.realized_pnl) or "0",
        unrealized_pnl=dec(sess.ledger.unrealized_pnl(marks)) or "0",
        open_orders=len(sess.orders),
        token_ids=list(sess.rec.token_ids),
        created_ms=sess.rec.created_ns // 1_000_000,
        trades=sess.fill_count,
    )


def detail(
    sess: LiveSession, marks: dict[str, Decimal | None], recent: list[FillRecord], tokens: list[TokenStatus]
) -> SessionDetail:
    positions = [
        PositionView(
            token_id=t,
            size=dec(p.size) or "0",
            average_price=dec(p.average_price) or "0",
            mark=dec(marks.get(t)),
            market_value=dec(p.size * m if (m := marks.get(t)) is not None else p.cost) or "0",
            realized_pnl=dec(p.realized_pnl) or "0",
            unrealized_pnl=dec(p.unrealized(marks.get(t))) or "0",
        )
        for t, p in sess.ledger.positions.items()
        if p.size or p.realized_pnl
    ]
    return SessionDetail(
        **summary(sess, marks).model_dump(),
        starting_cash=dec(sess.rec.starting_cash) or "0",
        fees_paid=dec(sess.ledger.fees_paid) or "0",
        fee_bps=dec(sess.rec.fee_bps),
        risk=sess.limits.to_dict(),
        peak_equity=dec(sess.rec.peak_equity) or "0",
        day_start_equity=dec(sess.rec.day_start_equity) or "0",
        market_ids=list(sess.rec.market_ids),
        allowed_actions=user_actions(sess.state),
        positions=positions,
        orders=[order_view(o) for o in sess.orders.values()],
        recent_fills=[fill_view(f) for f in recent],
        tokens=tokens,
    )


def token_status(token_id: str, book: Any, fees: str) -> TokenStatus:
    if book is None:
        return TokenStatus(
            token_id=token_id,
            book="none",
            best_bid=None,
            best_ask=None,
            mid=None,
            tick_size=None,
            min_order_size=None,
            fees=fees,
        )
    return TokenStatus(
        token_id=token_id,
        book="stale" if book.stale else "live",
        best_bid=dec(book.best_bid()),
        best_ask=dec(book.best_ask()),
        mid=dec(book.mid()),
        tick_size=dec(book.tick_size),
        min_order_size=dec(book.min_order_size),
        fees=fees,
    )
