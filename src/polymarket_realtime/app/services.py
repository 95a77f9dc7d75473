"""Starting the optional services of an :class:`~.root.Application` (at start-up or when a toolset is enabled).

Each ``start_*`` builds its service, sets the Application field, enters its async contexts on ``stack``
and starts its tasks; the stack unwinds them on shutdown. Registration is explicit (no loader): the MCP
server calls these for the toolsets it serves.
"""

from __future__ import annotations

import contextlib
import logging

import anyio
import httpx2

from ..agents.service import AgentService
from ..agents.system import SystemService
from ..paper.service import PaperService
from ..recording.service import RecordingService
from ..storage.activity import ActivityFeed
from ..storage.db import Database
from ..storage.retention import Retention, RetentionPolicy
from ..venues.polymarket.ratelimit import RateLimitedTransport
from .ownership import claim_sessions
from .root import Application, SessionServices
from .user import UserService

__all__ = ["start_recording", "start_sessions", "start_user"]

log = logging.getLogger(__name__)


async def start_user(app: Application, stack: contextlib.AsyncExitStack) -> None:
    """The account service; installs the user socket's (and PolyBolt's) credentials provider when configured."""
    # Account reads and key derivation draw from the process-wide CLOB rate-limit windows.
    transport = RateLimitedTransport("clob", app.settings.clob_url)
    http = await stack.enter_async_context(httpx2.AsyncClient(timeout=app.settings.http_timeout_s, transport=transport))
    service = UserService(app.settings, http, clock=app.clock)
    app.user = service
    if service.setup_error is None and service.credentials is not None and service.credentials.configured:
        app.feed.set_user_credentials_provider(service.provide)
        stack.callback(app.feed.set_user_credentials_provider, None)
        # PolyBolt takes the same L2 trio: share this manager (one derivation for both sockets).
        app.feed.set_polybolt_credentials_provider(service.provide)
        # After a user-socket reconnect, re-read orders and trades to emit what the gap hid
        # (ignored by a shared Redis feed: its feed process owns the user socket and does this itself).
        if service.rest is not None:
            app.feed.set_user_rest(service.rest)
            stack.callback(app.feed.set_user_rest, None)
        where = service.credentials.file_path
        log.info(
            "user channel enabled for %s%s",
            service.credentials.address or "(address from the API key)",
            f"; derived credentials are kept in {where}" if where else "",
        )


async def start_recording(app: Application, stack: contextlib.AsyncExitStack) -> None:
    """One raw-frame tap on the feed, recordings in ``<data_dir>/recordings``; active ones end on shutdown."""
    service = RecordingService(
        app.settings.recordings_dir,
        app.feed,
        app.books,
        markets=app.gamma,
        source=app.settings.market_ws_url.split("?", 1)[0],
        clock=app.clock,
    )
    await service.start(app.task_group)
    app.recording = service
    # Runs before the task group is cancelled (the stack unwinds in reverse): files end cleanly.
    stack.push_async_callback(service.aclose)


async def start_sessions(app: Application, stack: contextlib.AsyncExitStack) -> None:
    """Paper sessions, agents and system control; in shared-feed mode only while this process owns them."""
    if app.ownership is None:
        await _open_sessions(app, stack)
        return

    async def start(services: contextlib.AsyncExitStack) -> None:
        await _open_sessions(app, services)

    await claim_sessions(app, app.ownership, stack, start)


async def _open_sessions(app: Application, stack: contextlib.AsyncExitStack) -> None:
    """Open ``<data_dir>/state.sqlite3``, restore sessions, resting orders and agents, run their tasks in a task
    group of their own (cancelled *before* the database closes)."""
    db = Database(app.settings.db_path).open()
    stack.callback(db.close)
    activity = ActivityFeed(db, clock=app.clock)
    notifier = app.notifier
    activity.add_listener(notifier.activity_changed)
    task_group = await stack.enter_async_context(anyio.create_task_group())
    stack.callback(task_group.cancel_scope.cancel)
    settings = app.settings
    paper = PaperService(
        db,
        activity,
        app.books,
        feed=app.feed,
        markets=app.gamma,
        resolution_poll_s=settings.resolution_poll_s,
        resolution=app.resolution,
        book_warmup_s=settings.book_warmup_s,
        order_book_wait_s=settings.order_book_wait_s,
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
        book_warmup_s=settings.book_warmup_s,
        clock=app.clock,
    )
    agents.add_alert_listener(notifier.push_message)
    await agents.start(task_group)
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
    app.sessions = SessionServices(db=db, activity=activity, paper=paper, agents=agents, system=system)
    stack.callback(_forget_sessions, app)


def _forget_sessions(app: Application) -> None:
    app.sessions = None
