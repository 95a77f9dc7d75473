"""The composition root: :class:`Application` (every service of one process, typed) and :func:`open_application`.

The core (books, router, REST clients, feed, resolution fallback, comments poller) is built by
:func:`open_application`, one async context manager. The optional services (user account, recording, paper
sessions with agents and system control) are started by :mod:`.services` when their toolset is enabled,
at start-up or later (``enable_toolsets``). Adapters (MCP tools in ``server/``, the control room in
``http/``) read the fields; a service that is not running answers the documented :class:`StateError`
through the ``require_*`` accessors.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import StateError
from ..feed.books import BookStore
from ..feed.contract import FeedBackend
from ..routing.resolution import ResolutionFallback
from ..routing.router import EventRouter
from ..venues.polymarket.gamma import GammaClient
from ..venues.polymarket.rest import ClobRestClient
from .comments import CommentsPoller
from .market import MarketData
from .polybolt_credentials import install_polybolt_credentials

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from ..agents.service import AgentService
    from ..agents.system import SystemService
    from ..paper.service import PaperService
    from ..recording.service import RecordingService
    from ..redisbus.keys import Keys
    from ..routing.eventlog import LogEntry
    from ..routing.router import Subscription
    from ..storage.activity import ActivityFeed
    from ..storage.db import Database
    from .ownership import Ownership
    from .user import UserService

__all__ = ["Application", "FeedFactory", "Notifications", "RedisContext", "SessionServices", "open_application"]

FeedFactory = Callable[[Settings, BookStore, EventRouter, ClobRestClient], FeedBackend]


class Notifications(Protocol):
    """What services tell the clients of the surface that runs them (MCP pushes today); never awaits."""

    def on_subscription_event(self, sub: Subscription, entry: LogEntry) -> None: ...
    def status_changed(self) -> None: ...
    def activity_changed(self) -> None: ...
    def push_message(self, data: dict[str, Any]) -> None: ...


@dataclass(eq=False)
class SessionServices:
    """Paper sessions, agents and system control over one SQLite database (started and stopped together)."""

    db: Database
    activity: ActivityFeed
    paper: PaperService
    agents: AgentService
    system: SystemService


@dataclass(frozen=True, eq=False)
class RedisContext:
    """Shared-feed mode: the Redis the feed consumer uses, its key namespace and this server's id."""

    client: aioredis.Redis
    keys: Keys
    server_id: str


@dataclass(eq=False)
class Application:
    settings: Settings
    clock: Clock
    books: BookStore
    router: EventRouter
    clob: ClobRestClient
    gamma: GammaClient
    feed: FeedBackend
    """The WebSocketManager (or the Redis consumer that stands in for it)."""
    notifier: Notifications
    task_group: anyio.abc.TaskGroup
    """Long-lived background tasks go here; cancelled when the process shuts down."""
    started_monotonic: float
    resolution: ResolutionFallback
    comments: CommentsPoller
    market: MarketData
    ownership: Ownership | None = None
    """Shared-feed (Redis) mode: the lock that says whether sessions/agents run in this process."""
    redis: RedisContext | None = None
    """Shared-feed (Redis) mode: where the control room mirrors and forwards (None in embedded mode)."""
    user: UserService | None = None
    recording: RecordingService | None = None
    sessions: SessionServices | None = None
    sessions_unavailable: str | None = None
    """Why sessions are not running here (shared-feed mode, another process owns them); None otherwise."""

    @staticmethod
    def _missing(name: str) -> StateError:
        return StateError(
            f"{name} is not running in this server; check POLYMARKET_MCP_TOOLSETS and the server log",
            state="service_missing",
        )

    def require_user(self) -> UserService:
        if self.user is None:
            raise self._missing("UserService")
        return self.user

    def require_recording(self) -> RecordingService:
        if self.recording is None:
            raise self._missing("RecordingService")
        return self.recording

    def _require_sessions(self, name: str) -> SessionServices:
        if self.sessions is None:
            if self.sessions_unavailable is not None:
                raise StateError(self.sessions_unavailable, state="unavailable")
            raise self._missing(name)
        return self.sessions

    def require_paper(self) -> PaperService:
        return self._require_sessions("PaperService").paper

    def require_agents(self) -> AgentService:
        return self._require_sessions("AgentService").agents

    def require_system(self) -> SystemService:
        return self._require_sessions("SystemService").system


@dataclass(frozen=True, eq=False)
class _BuiltFeed:
    feed: FeedBackend
    ownership: Ownership | None = None
    redis: RedisContext | None = None


def _default_feed(
    settings: Settings, books: BookStore, router: EventRouter, clob: ClobRestClient, *, clock: Clock
) -> _BuiltFeed:
    """The one place that knows the Redis backend: it also holds the session-ownership lock (one client)."""
    if settings.redis_url is not None:
        # Shared-feed mode (POLYMARKET_MCP_REDIS_URL): no upstream sockets, events come from Redis.
        from ..redisbus.consumer import redis_feed_factory

        redis_feed = redis_feed_factory(settings, books, router, clob, clock=clock)
        context = RedisContext(client=redis_feed.client, keys=redis_feed.keys, server_id=redis_feed.server_id)
        return _BuiltFeed(redis_feed, ownership=redis_feed.sessions, redis=context)
    from ..feed.manager import WebSocketManager

    return _BuiltFeed(WebSocketManager(settings, books=books, router=router, clob_rest=clob, clock=clock))


@contextlib.asynccontextmanager
async def open_application(
    settings: Settings,
    notifier: Notifications,
    *,
    feed_factory: FeedFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[Application]:
    """Build the core services, run their background tasks, and close everything on exit."""
    async with contextlib.AsyncExitStack() as stack:
        books = BookStore(clock=clock)
        router = EventRouter(books)
        clob = await stack.enter_async_context(ClobRestClient(settings, clock=clock))
        gamma = await stack.enter_async_context(GammaClient(settings, clock=clock))
        if feed_factory is None:
            built = _default_feed(settings, books, router, clob, clock=clock)
        else:
            built = _BuiltFeed(feed_factory(settings, books, router, clob))
        feed = built.feed
        await stack.enter_async_context(feed)
        task_group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(task_group.cancel_scope.cancel)
        resolution = ResolutionFallback(
            gamma, conditions=gamma, router=router, books=books, clock=clock, poll_s=settings.resolution_poll_s
        )
        comments = CommentsPoller(gamma, router, interval_s=settings.comments_poll_s, clock=clock)
        app = Application(
            settings=settings,
            clock=clock,
            books=books,
            router=router,
            clob=clob,
            gamma=gamma,
            feed=feed,
            notifier=notifier,
            task_group=task_group,
            started_monotonic=clock.monotonic(),
            resolution=resolution,
            comments=comments,
            market=MarketData(gamma, clob, books, clock),
            ownership=built.ownership,
            redis=built.redis,
        )
        resolution_sink = router.add_sink("resolution-fallback", 1024, event_types=["market_resolved"])
        stack.callback(resolution_sink.close)
        task_group.start_soon(_drain, resolution_sink, resolution.on_event, name="resolution-sink")
        task_group.start_soon(resolution.run, name="resolution-fallback")
        task_group.start_soon(comments.run, name="comments-poller")
        # PolyBolt reference prices need the L2 trio even when the user toolset is off; the user service
        # (started now or later) replaces this provider with its own shared credential manager.
        await install_polybolt_credentials(settings, feed, stack)
        yield app


async def _drain(sink: Any, consume: Callable[[Any], None]) -> None:
    async for event in sink:
        consume(event)
