"""``create_server(settings)``: the MCP server (mcp 2.3 ``MCPServer``) and its lifespan.

The lifespan builds every service once per connection (once per stdio process): BookStore,
EventRouter, ClobRestClient, GammaClient, the WebSocketManager (sockets open lazily on the first
subscription, so ``initialize`` never waits on the network), the Notifier and the Gamma resolution
fallback, then starts the extensions. Tools are registered at construction, filtered by
``settings.toolsets``, and stay static for the life of the process.

Errors: tools raise :mod:`polymarket_realtime.errors`; :meth:`PolymarketMCP.call_tool` turns them into
``isError`` results whose text is the (redacted) message, so the model can correct its call.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.types import CallToolResult, InputRequiredResult

from .. import __version__
from ..config import Settings
from ..errors import PolymarketRealtimeError, StateError
from ..feed.backend import FeedBackend
from ..feed.books import BookStore
from ..routing.router import BOOK_EVENT_TYPES, EventRouter
from ..secrets import redactor
from ..venues.polymarket.gamma import GammaClient
from ..venues.polymarket.rest import ClobRestClient
from . import resources, tools_market, tools_realtime
from .context import AppContext
from .extensions import Extension, load_extensions
from .notify import Notifier, install_legacy_handlers
from .resolution import ResolutionWatcher

__all__ = ["INSTRUCTIONS", "PolymarketMCP", "create_server"]

log = logging.getLogger(__name__)

FeedFactory = Callable[[Settings, BookStore, EventRouter, ClobRestClient], FeedBackend]

INSTRUCTIONS = """\
Live Polymarket market data (read-only venue access; any trading tools are paper trading only).

How to use it:
1. Find a market: search_markets(query) or get_market(slug | condition id | token id). Each market lists
   outcomes as [{name, token_id, price}]; token ids are long decimal strings. Prices are USDC per share
   (0..1, the implied probability); sizes are shares. Numbers are decimal strings.
2. One-off look: get_order_book(token_id).
3. Live data: subscribe_market_prices / subscribe_orderbook_updates / subscribe_market_resolution /
   subscribe_crypto_prices / subscribe_comments return a subscription_id. Read its events with
   get_events(subscription_id, after_seq=0, wait_s=10), then call get_events again with
   after_seq=next_seq. Sequence numbers are dense, so passing next_seq back gets every event exactly
   once; `dropped` > 0 means the bounded buffer overflowed before you read (read more often).
   wait_s (max 25) long-polls: the call returns as soon as an event arrives.
4. get_realtime_status shows connections, subscriptions and counters; unsubscribe_realtime stops a
   subscription (or all=true). `feed_status` events tell you when the live connection dropped and
   recovered (books are `stale` meanwhile).
"""


class PolymarketMCP(MCPServer[AppContext]):
    """MCPServer whose tool errors from our exception tree reach the model with their message, redacted."""

    _current_app: Callable[[], AppContext] | None = None
    enabled_toolsets: frozenset[str] = frozenset()
    """The POLYMARKET_MCP_TOOLSETS in force; extensions serving several toolsets register per toolset."""

    def running_app(self) -> AppContext:
        """The AppContext of the running lifespan (tests, demos, diagnostics); StateError if stopped."""
        if self._current_app is None:
            raise StateError("the server is not running", state="stopped")
        return self._current_app()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppContext, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, PolymarketRealtimeError):
                log.info("tool %s: %s", name, redactor.scrub(str(cause)))
                raise ToolError(f"{name}: {redactor.scrub(str(cause))}") from cause
            if isinstance(exc, UnexpectedToolError):
                raise
            raise ToolError(redactor.scrub(str(exc))) from exc


def _default_feed(settings: Settings, books: BookStore, router: EventRouter, clob: ClobRestClient) -> FeedBackend:
    if settings.redis_url is not None:
        # Shared-feed mode (POLYMARKET_MCP_REDIS_URL): no upstream sockets, events come from Redis.
        from ..redisbus.consumer import redis_feed_factory

        return redis_feed_factory(settings, books, router, clob)
    from ..feed.manager import WebSocketManager

    return WebSocketManager(settings, books=books, router=router, clob_rest=clob)


def create_server(
    settings: Settings,
    *,
    feed_factory: FeedFactory | None = None,
    extensions: list[Extension] | None = None,
) -> PolymarketMCP:
    """Build the server. ``feed_factory`` swaps the feed backend (e.g. the Redis consumer)."""
    bus = InMemorySubscriptionBus()
    exts = load_extensions() if extensions is None else extensions
    enabled = [e for e in exts if settings.toolsets.intersection(getattr(e, "toolsets", (e.toolset,)))]
    holder: dict[str, AppContext] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        shared = holder.get("app")
        if shared is not None:
            # A second transport in the same process (stdio plus the dashboard's /mcp, http/host.py)
            # shares the running services; the first entry owns them and tears them down.
            yield shared
            return
        async with contextlib.AsyncExitStack() as stack:
            books = BookStore()
            router = EventRouter(books)
            clob = await stack.enter_async_context(ClobRestClient(settings))
            gamma = await stack.enter_async_context(GammaClient(settings))
            feed = (feed_factory or _default_feed)(settings, books, router, clob)
            await stack.enter_async_context(feed)  # type: ignore[arg-type]  # FeedBackend is an async CM
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            notifier = Notifier(bus)
            stack.callback(notifier.close)
            app = AppContext(
                settings=settings,
                feed=feed,
                books=books,
                router=router,
                clob=clob,
                gamma=gamma,
                notifier=notifier,
                task_group=task_group,
                started_monotonic=time.monotonic(),
            )
            watcher = ResolutionWatcher(app)
            app.add_service(watcher)
            notify_sink = router.add_sink("mcp-notifier", 4096, event_types=[*BOOK_EVENT_TYPES, "feed_status"])
            resolution_sink = router.add_sink("resolution-fallback", 1024, event_types=["market_resolved"])
            stack.callback(notify_sink.close)
            stack.callback(resolution_sink.close)
            task_group.start_soon(notifier.run, name="mcp-notifier")
            task_group.start_soon(notifier.drain_sink, notify_sink, name="mcp-notifier-sink")
            task_group.start_soon(_drain, resolution_sink, watcher.on_event, name="resolution-sink")
            task_group.start_soon(watcher.run, name="resolution-fallback")
            for ext in enabled:
                await ext.start(app, stack)
                log.info("extension %s started", ext.name)
            holder["app"] = app
            try:
                yield app
            finally:
                holder.pop("app", None)

    def current_app() -> AppContext:
        app = holder.get("app")
        if app is None:
            raise StateError("the server is not running", state="stopped")
        return app

    mcp = PolymarketMCP(
        name="polymarket-realtime",
        title="Polymarket real-time",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        subscriptions=bus,
        log_level=settings.log_level,  # type: ignore[arg-type]  # validated by Settings
    )
    mcp._current_app = current_app
    mcp.enabled_toolsets = settings.toolsets
    install_legacy_handlers(mcp)
    if "market" in settings.toolsets:
        tools_market.register(mcp)
    if "realtime" in settings.toolsets:
        tools_realtime.register(mcp)
    resources.register(mcp, current_app)
    for ext in enabled:
        ext.register_tools(mcp)
    return mcp


async def _drain(sink: Any, consume: Callable[[Any], None]) -> None:
    async for event in sink:
        consume(event)
