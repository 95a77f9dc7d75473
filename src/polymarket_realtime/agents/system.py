"""SystemService: the master switch, aggregated system status and the activity feed.

* ``stop_system`` records (in one transaction) which sessions were running and which agents were
  running, then pauses those sessions and stops those agents; ``start_system`` resumes exactly those
  sessions that are still paused and restarts exactly those agents that are still stopped. The switch
  and the remembered sets are persisted, so a restart in between keeps the system stopped and finishes
  an interrupted stop.
* ``status`` aggregates live state from its sources (feed engine, router, book store, services,
  database probe) on every call; nothing is hard-coded.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, PolymarketRealtimeError, StateError
from ..paper.service import PaperService
from ..storage import system as system_db
from ..storage.activity import ActivityFeed
from ..storage.db import Database
from ..storage.retention import Retention
from .models import ActivityEntry, ActivityPage, SystemStatus, SystemSwitchResult
from .service import AgentService

__all__ = ["MAX_ACTIVITY", "SystemService"]

log = logging.getLogger(__name__)
MAX_ACTIVITY = 500
_SWITCH, _SESSIONS, _AGENTS = "switch", "remembered_sessions", "remembered_agents"
_SYSTEM_REASON = "paused by stop_system"


class SystemService:
    def __init__(
        self,
        db: Database,
        activity: ActivityFeed,
        paper: PaperService,
        agents: AgentService,
        *,
        feed: Any | None = None,
        router: Any | None = None,
        books: Any | None = None,
        started_monotonic: float | None = None,
        retention: Retention | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.db = db
        self.activity = activity
        self.paper = paper
        self.agents = agents
        self.feed = feed
        self.router = router
        self.books = books
        self.retention = retention
        self.started_monotonic = clock.monotonic() if started_monotonic is None else started_monotonic
        self.switch = "running"
        self._sessions: list[str] = []
        self._agents: list[str] = []
        # The master switch guards every start-type or exposure-increasing action in both services.
        paper.system_gate = self.require_running
        agents.system_gate = self.require_running

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> tuple[str | None, str | None, str | None]:
            return (
                system_db.get_system_value(conn, _SWITCH),
                system_db.get_system_value(conn, _SESSIONS),
                system_db.get_system_value(conn, _AGENTS),
            )

        switch, sessions, agents = await self.db.read(read)
        self.switch = switch or "running"
        self._sessions = json.loads(sessions or "[]")
        self._agents = json.loads(agents or "[]")
        if self.switch == "stopped":
            await self._apply_stop()  # finish a stop a crash may have interrupted

    async def stop_system(self) -> SystemSwitchResult:
        if self.switch == "stopped":
            raise StateError("The system is already stopped; call start_system to restore it.", state="stopped")
        sessions = self.paper.session_ids(state=None)
        sessions = [s for s in sessions if self.paper.state_of(s) == "running"]
        agents = self.agents.running_ids()

        def write(conn: sqlite3.Connection) -> None:
            system_db.set_system_value(conn, _SWITCH, "stopped")
            system_db.set_system_value(conn, _SESSIONS, json.dumps(sessions))
            system_db.set_system_value(conn, _AGENTS, json.dumps(agents))
            self.activity.add(
                conn,
                "system_stopped",
                "system",
                f"system stopped: pausing {len(sessions)} sessions, stopping {len(agents)} agents",
                {"sessions": sessions, "agents": agents},
            )

        await self.db.write(write)
        self.activity.published()
        self.switch, self._sessions, self._agents = "stopped", sessions, agents
        await self._apply_stop()
        return SystemSwitchResult(
            switch="stopped",
            sessions=sessions,
            agents=agents,
            message="Paused the running sessions and stopped the running agents; start_system restores them.",
        )

    async def _apply_stop(self) -> None:
        for session_id in self._sessions:
            try:
                if self.paper.state_of(session_id) == "running":
                    await self.paper.pause(session_id, _SYSTEM_REASON)
            except PolymarketRealtimeError as exc:
                log.warning("stop_system: session %s: %s", session_id, exc)
        for agent_id in self._agents:
            try:
                if self.agents.view(agent_id).state == "running":
                    await self.agents.stop_agent(agent_id, "stopped by stop_system")
            except PolymarketRealtimeError as exc:
                log.warning("stop_system: agent %s: %s", agent_id, exc)

    async def start_system(self) -> SystemSwitchResult:
        if self.switch == "running":
            raise StateError("The system is already running.", state="running")
        resumed: list[str] = []
        restarted: list[str] = []
        for session_id in self._sessions:
            try:
                if self.paper.state_of(session_id) == "paused":
                    await self.paper.resume(session_id, "resumed by start_system", by_system=True)
                    resumed.append(session_id)
            except PolymarketRealtimeError as exc:
                log.warning("start_system: session %s: %s", session_id, exc)
        for agent_id in self._agents:
            try:
                if self.agents.view(agent_id).state == "stopped":
                    await self.agents.restart_agent(agent_id, "restarted by start_system", by_system=True)
                    restarted.append(agent_id)
            except PolymarketRealtimeError as exc:
                log.warning("start_system: agent %s: %s", agent_id, exc)

        def write(conn: sqlite3.Connection) -> None:
            system_db.set_system_value(conn, _SWITCH, "running")
            system_db.set_system_value(conn, _SESSIONS, "[]")
            system_db.set_system_value(conn, _AGENTS, "[]")
            self.activity.add(
                conn,
                "system_started",
                "system",
                f"system started: resumed {len(resumed)} sessions, restarted {len(restarted)} agents",
                {"sessions": resumed, "agents": restarted},
            )

        await self.db.write(write)
        self.activity.published()
        self.switch, self._sessions, self._agents = "running", [], []
        return SystemSwitchResult(
            switch="running", sessions=resumed, agents=restarted, message="Restored what stop_system stopped."
        )

    def require_running(self) -> None:
        if self.switch != "running":
            raise StateError(
                "The system is stopped (master switch): nothing may start or add exposure; call start_system "
                "first (pausing, stopping, cancelling and reducing orders still work).",
                state="stopped",
            )

    async def status(self) -> SystemStatus:
        feed: dict[str, Any] = {}
        if self.feed is not None:
            try:
                feed = self.feed.status().as_dict()
            except Exception as exc:  # status is a boundary: report, never raise
                feed = {"error": repr(exc)}
        subscriptions: dict[str, int] = {}
        if self.router is not None:
            subscriptions["router_subscriptions"] = len(self.router)
            subscriptions["sinks"] = len(self.router.sinks())
            subscriptions["sink_dropped"] = int(self.router.sink_dropped)
        if self.books is not None:
            subscriptions["books"] = len(self.books)
        _, latest = await self.activity.read(0, 1)
        return SystemStatus(
            switch=self.switch,
            pid=os.getpid(),
            uptime_s=round(self._clock.monotonic() - self.started_monotonic, 3),
            feed=feed,
            sessions=self.paper.counts_by_state(),
            agents=self.agents.counts_by_state(),
            subscriptions=subscriptions,
            storage=await self._storage(),
            activity_latest_seq=latest,
            remembered={"sessions": list(self._sessions), "agents": list(self._agents)},
        )

    async def _storage(self) -> dict[str, Any]:
        storage: dict[str, Any] = dict(await self.db.health())
        try:
            storage["size"] = await self.db.size()
        except Exception as exc:  # status is a boundary: report, never raise
            storage["size"] = {"error": str(exc)}
        if self.retention is not None:
            storage["retention"] = self.retention.status()
        return storage

    async def read_activity(self, after_seq: int = 0, limit: int = 100, *, wait_s: float = 0) -> ActivityPage:
        """Entries after ``after_seq``; with ``wait_s > 0`` it first long-polls until one exists or time runs out."""
        if after_seq < 0:
            raise InvalidInputError(f"after_seq must be >= 0 (got {after_seq}).")
        if not 1 <= limit <= MAX_ACTIVITY:
            raise InvalidInputError(f"limit must be between 1 and {MAX_ACTIVITY} (got {limit}).")
        if not wait_s >= 0:  # also refuses NaN
            raise InvalidInputError(f"wait_s must be >= 0 seconds (got {wait_s}).")
        if wait_s > 0:
            await self.activity.wait(after_seq, wait_s)
        entries, latest = await self.activity.read(after_seq, limit)
        return ActivityPage(
            entries=[
                ActivityEntry(
                    seq=e.seq,
                    ts_ms=e.ts_ns // 1_000_000,
                    kind=e.kind,
                    subject=e.subject,
                    message=e.message,
                    data=e.data,
                )
                for e in entries
            ],
            next_after_seq=entries[-1].seq if entries else max(after_seq, 0) if after_seq <= latest else latest,
            latest_seq=latest,
        )
