"""A paper session's saved equity history (one snapshot per fill), for the control room's chart."""

from __future__ import annotations

from typing import Any

from ..storage import sessions as sessions_db
from .root import Application

__all__ = ["equity_points"]


async def equity_points(app: Application, session_id: str, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` snapshots, oldest first; NotFoundError for an unknown session."""
    app.require_paper().state_of(session_id)
    sessions = app.sessions
    assert sessions is not None  # require_paper() raised otherwise
    rows = await sessions.db.read(lambda conn: sessions_db.load_equity(conn, session_id, limit))
    return [{"ts_ms": ts // 1_000_000, "cash": cash, "equity": eq} for ts, cash, eq in rows]
