"""Extension ``paper``: paper sessions, agents and system control, persisted in SQLite.

Registers the ``paper``, ``agents`` and ``system`` tools and the ``polymarket://activity`` resource.
``start`` opens the database (``<data_dir>/state.sqlite3``), restores every session, resting order and
agent, and runs the services' tasks in a task group of its own that is cancelled *before* the database
closes on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from ..agents.service import AgentService
from ..agents.system import SystemService
from ..paper.service import PaperService
from ..storage.activity import ACTIVITY_URI, ActivityFeed
from ..storage.db import Database
from . import tools_agents, tools_paper, tools_system
from .context import AppContext

__all__ = ["EXTENSION", "PaperExtension"]


class PaperExtension:
    name = "paper"
    toolset = "paper"
    toolsets = ("paper", "agents", "system")

    def __init__(self) -> None:
        self._system: SystemService | None = None

    def register_tools(self, mcp: MCPServer[AppContext]) -> None:
        enabled: frozenset[str] = getattr(mcp, "enabled_toolsets", frozenset(self.toolsets))
        if "paper" in enabled:
            tools_paper.register(mcp)
        if "agents" in enabled:
            tools_agents.register(mcp)
        if "system" in enabled:
            tools_system.register(mcp)
        running_app = getattr(mcp, "running_app", None)

        @mcp.resource(
            ACTIVITY_URI,
            name="activity",
            title="Activity feed",
            description="The latest 100 activity entries (state changes, fills, risk events, alerts, agent errors).",
            mime_type="application/json",
        )
        async def activity() -> str:
            system = running_app().service(SystemService) if running_app is not None else self._system
            if system is None:
                return "{}"
            page = await system.read_activity(max(0, (await system.read_activity(0, 1)).latest_seq - 100), 100)
            return page.model_dump_json(indent=2)

    async def start(self, app: AppContext, stack: contextlib.AsyncExitStack) -> None:
        if not await _claim_sessions(app):
            return
        db = Database(app.settings.db_path).open()
        stack.callback(db.close)
        activity = ActivityFeed(db)
        notifier: Any = app.notifier
        activity.add_listener(lambda: notifier.resource_changed(ACTIVITY_URI))
        task_group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(task_group.cancel_scope.cancel)
        paper = PaperService(
            db,
            activity,
            app.books,
            feed=app.feed,
            markets=app.gamma,
            resolution_poll_s=app.settings.resolution_poll_s,
        )
        await paper.start(task_group, router=app.router)
        agents = AgentService(db, activity, app.books, router=app.router, feed=app.feed, paper=paper)
        agents.add_alert_listener(notifier.push_message)
        await agents.start(task_group)
        system = SystemService(
            db,
            activity,
            paper,
            agents,
            feed=app.feed,
            router=app.router,
            books=app.books,
            started_monotonic=app.started_monotonic,
        )
        await system.load()
        for service in (db, activity, paper, agents, system):
            app.add_service(service)
        self._system = system


async def _claim_sessions(app: AppContext) -> bool:
    """Shared-feed (Redis) mode: sessions and agents run in one server process only (redisbus/ownership.py).

    False (and every paper/agent/system service marked unavailable with the reason) when another server
    owns them; always True in embedded mode.
    """
    from ..errors import StateError
    from ..redisbus.consumer import RedisFeedBackend

    if not isinstance(app.feed, RedisFeedBackend):
        return True
    try:
        await app.feed.sessions.ensure()
    except StateError as exc:
        for cls in (Database, ActivityFeed, PaperService, AgentService, SystemService):
            app.mark_unavailable(cls, str(exc))
        logging.getLogger(__name__).warning("paper sessions and agents not started here: %s", exc)
        return False
    return True


EXTENSION = PaperExtension()
