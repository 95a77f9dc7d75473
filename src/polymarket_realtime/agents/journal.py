"""AgentJournal: agents' log lines and alerts, committed to SQLite and pushed to listeners.

A log line or an alert is committed before the call that made it returns; listeners (the MCP alert
push, the control room's log stream) are then called synchronously, and a failing listener never loses
the committed line nor breaks the agent.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..errors import InvalidInputError
from ..model.agent_records import AlertRecord
from ..storage import agents as agents_db
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from .entry import AgentEntry
from .models import AgentLogLine, AgentLogs

__all__ = ["LOG_LEVELS", "MAX_LOG_LINES", "AgentJournal"]

log = logging.getLogger(__name__)
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_LOG_LINES = 1000


class AgentJournal:
    def __init__(self, db: Database, activity: ActivityFeed, clock: Clock, changed: ChangeSignal) -> None:
        self._db = db
        self._activity = activity
        self._clock = clock
        self._changed = changed
        self._alert_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._log_listeners: list[Callable[[str, int, str, str], None]] = []

    async def logs(
        self, agent_id: str, lines: int = 100, level: str | None = None, contains: str | None = None
    ) -> AgentLogs:
        if not 1 <= lines <= MAX_LOG_LINES:
            raise InvalidInputError(f"lines must be between 1 and {MAX_LOG_LINES} (got {lines}).")
        if level is not None and level not in LOG_LEVELS:
            raise InvalidInputError(f"level must be one of {', '.join(LOG_LEVELS)} or null, not {level!r}.")
        if contains is not None and len(contains) > 200:
            raise InvalidInputError("contains must be at most 200 characters.")
        rows = await self._db.read(
            lambda c: agents_db.read_agent_logs(c, agent_id, lines=lines, level=level, contains=contains)
        )
        return AgentLogs(
            agent_id=agent_id,
            lines=[AgentLogLine(id=r.id, ts_ms=r.ts_ns // 1_000_000, level=r.level, message=r.message) for r in rows],
        )

    async def append_log(self, entry: AgentEntry, level: str, message: str) -> None:
        level = level if level in LOG_LEVELS else "info"
        now = self._clock.time_ns()
        await self._db.write(lambda c: agents_db.insert_agent_log(c, entry.rec.id, now, level, message[:8000]))
        entry.log_lines += 1
        self._logged(entry.rec.id, now, level, message[:8000])

    def add_log_listener(self, listener: Callable[[str, int, str, str], None]) -> None:
        """Called synchronously with ``(agent_id, ts_ns, level, message)`` after each log line commits."""
        self._log_listeners.append(listener)

    def _logged(self, agent_id: str, ts_ns: int, level: str, message: str) -> None:
        for listener in self._log_listeners:
            try:
                listener(agent_id, ts_ns, level, message)
            except Exception:  # an observer must not break the agent
                log.exception("log listener failed")

    async def record_alert(self, entry: AgentEntry, token_id: str, price: Decimal, message: str) -> None:
        now = self._clock.time_ns()
        agent_id = entry.rec.id

        def write(conn: sqlite3.Connection) -> None:
            agents_db.insert_alert(conn, agent_id, now, token_id, price, message)
            agents_db.insert_agent_log(conn, agent_id, now, "info", message)
            self._activity.add(conn, "alert", agent_id, message, {"token_id": token_id, "price": str(price)})

        await self._db.write(write)
        entry.log_lines += 1
        self._logged(agent_id, now, "info", message)
        self._activity.published()
        self._changed.notify()
        alert = {"type": "alert", "agent_id": agent_id, "token_id": token_id, "price": str(price), "message": message}
        for listener in self._alert_listeners:
            try:
                listener(alert)
            except Exception:  # a broken listener must not lose the (already committed) alert
                log.exception("alert listener failed")

    def add_alert_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Called synchronously with every fired alert after it is committed (e.g. MCP push)."""
        self._alert_listeners.append(listener)

    async def alerts(self, agent_id: str, limit: int = 20) -> list[AlertRecord]:
        return await self._db.read(lambda c: agents_db.read_alerts(c, agent_id, limit))
