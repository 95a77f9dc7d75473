"""Extension ``paper``: paper sessions, agents and system control, persisted in SQLite.

Registers the ``paper``, ``agents`` and ``system`` tools and the ``polymarket://activity`` resource.
``start`` opens the database (``<data_dir>/state.sqlite3``), restores every session, resting order and
agent, and runs the services' tasks in a task group of its own that is cancelled *before* the database
closes on shutdown.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from ..agents.service import AgentService
from ..agents.system import SystemService
from ..paper.service import PaperService
from ..routing.resolution import ResolutionFallback
from ..storage.activity import ActivityFeed
from ..storage.db import Database
from ..storage.retention import Retention, RetentionPolicy
from . import tools_agents, tools_paper, tools_system
from .context import AppContext
from .notify import ACTIVITY_URI

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
        if not await _claim_sessions(app, stack, self.start):
            return  # shared-feed mode: the ownership watcher runs this start while this server owns sessions
        db = Database(app.settings.db_path).open()
        stack.callback(db.close)
        activity = ActivityFeed(db, clock=app.clock)
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
            resolution=app.service(ResolutionFallback),
            book_warmup_s=app.settings.book_warmup_s,
            order_book_wait_s=app.settings.order_book_wait_s,
            clock=app.clock,
        )
        await paper.start(task_group, router=app.router)
        agents = AgentService(
            db,
            activity,
            app.books,
            router=app.router,
            feed=app.feed,
            paper=paper,
            markets=app.gamma,
            book_warmup_s=app.settings.book_warmup_s,
            clock=app.clock,
        )
        agents.add_alert_listener(notifier.push_message)
        await agents.start(task_group)
        settings = app.settings
        retention = Retention(
            db,
            RetentionPolicy(
                max_age_days=settings.retention_days,
                agent_log_rows=settings.retention_agent_log_rows,
                activity_rows=settings.retention_activity_rows,
                interval_s=settings.retention_interval_s,
            ),
            clock=app.clock,
        )
        system = SystemService(
            db,
            activity,
            paper,
            agents,
            feed=app.feed,
            router=app.router,
            books=app.books,
            started_monotonic=app.started_monotonic,
            retention=retention,
            clock=app.clock,
        )
        await system.load()
        task_group.start_soon(retention.run, name="history-retention")
        for service in (db, activity, paper, agents, system):
            app.add_service(service)
        self._system = system


_SESSIONS_CLASSES: tuple[type[Any], ...] = (Database, ActivityFeed, PaperService, AgentService, SystemService)
_AS_OWNER: contextvars.ContextVar[bool] = contextvars.ContextVar("paper_as_owner", default=False)


async def _claim_sessions(
    app: AppContext,
    stack: contextlib.AsyncExitStack,
    start: Callable[[AppContext, contextlib.AsyncExitStack], Awaitable[None]],
) -> bool:
    """Shared-feed (Redis) mode: sessions and agents run in one server process only (redisbus/ownership.py).

    True in embedded mode (the caller starts the services itself). In shared-feed mode returns False and
    runs an ownership watcher instead: while this server holds the lock it runs ``start`` (services in a
    stack of their own); when the lock is lost or Redis becomes unreachable it stops them and every
    paper/agent/system tool answers a StateError naming the owner (or saying Redis is unreachable); it
    starts them again once the lock is re-taken. Waits for the services when the lock is free at startup.
    """
    if app.settings.redis_url is None or _AS_OWNER.get():
        return True  # embedded mode: checked before importing redisbus, which pulls in redis
    from ..redisbus.consumer import RedisFeedBackend

    if not isinstance(app.feed, RedisFeedBackend):
        return True
    ownership = app.feed.sessions
    ownership.want()
    await ownership.attempt()
    if not ownership.held:
        _gate_sessions(app, ownership.reason())
    task_group = await stack.enter_async_context(anyio.create_task_group())
    stack.callback(task_group.cancel_scope.cancel)
    started = anyio.Event()
    task_group.start_soon(_run_while_owned, app, ownership, start, started, name="paper-sessions-owner")
    if ownership.held:
        await started.wait()
    return False


def _gate_sessions(app: AppContext, reason: str) -> None:
    for cls in _SESSIONS_CLASSES:
        app.remove_service(cls)  # stopped here: service() now raises StateError(reason)
        app.mark_unavailable(cls, reason)


async def _run_while_owned(
    app: AppContext,
    ownership: Any,
    start: Callable[[AppContext, contextlib.AsyncExitStack], Awaitable[None]],
    started: anyio.Event,
) -> None:
    _AS_OWNER.set(True)  # this task's context only: start() below runs the services
    log = logging.getLogger(__name__)
    while True:
        if not ownership.held:
            _gate_sessions(app, ownership.reason())  # refreshed each round: owner id or "Redis unreachable"
            started.set()
            with anyio.move_on_after(ownership.lock.renew_interval_s):
                await ownership.wait_changed()
            continue
        async with contextlib.AsyncExitStack() as services:
            await start(app, services)
            log.info("paper sessions and agents running in this server (it owns them)")
            ownership.mark_services(True)
            started.set()
            while ownership.held:
                await ownership.wait_changed()
            _gate_sessions(app, ownership.reason())
            log.warning("paper sessions and agents stopped here: %s", ownership.reason())
        ownership.mark_services(False)  # the services' tasks are cancelled and the database closed


EXTENSION = PaperExtension()
