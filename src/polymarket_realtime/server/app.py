"""``create_server(settings)``: the MCP server (mcp 2.3 ``MCPServer``) and its lifespan.

The lifespan builds every service once per connection (once per stdio process): BookStore,
EventRouter, ClobRestClient, GammaClient, the WebSocketManager (sockets open lazily on the first
subscription, so ``initialize`` never waits on the network), the Notifier and the Gamma resolution
fallback, then starts the extensions. Tools are registered at construction, filtered by
``settings.toolsets``; ``enable_toolsets`` (:mod:`.toolsets`) can add toolsets while the server runs.
Every listed tool goes through :mod:`.tool_schemas` (compact schemas: the tool-list budget) and every
call through :mod:`.strict_args` (unknown arguments are refused before the tool runs).

Errors: tools raise :mod:`polymarket_realtime.errors`; :meth:`PolymarketMCP.call_tool` turns them into
``isError`` results whose text is the (redacted) message, so the model can correct its call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.resources import Resource
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.types import CallToolResult, InputRequiredResult, Tool as MCPTool

from .. import __version__
from ..app.root import Application, FeedFactory, open_application
from ..app.strict_args import check_arguments
from ..clock import SYSTEM_CLOCK, Clock
from ..config import TOOLSETS, Settings
from ..errors import InvalidInputError, PolymarketRealtimeError, StateError
from ..routing.router import BOOK_EVENT_TYPES
from ..secrets import redactor
from . import resources, tools_market, tools_realtime
from .extensions import Extension, default_extensions
from .notify import Notifier, install_legacy_handlers
from .tool_schemas import compact_tool_list
from .toolsets import ExtensionStarter, advertise_tools_list_changed, extension_toolsets, register_enable_tool

__all__ = ["INSTRUCTIONS", "PolymarketMCP", "create_server"]

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
Live Polymarket market data (read-only venue access; any trading tools are paper trading only).

How to use it:
1. Find a market: search_markets(query) or get_market(slug | condition id | token id). Each market lists
   outcomes as [{name, token_id, price}]; token ids are long decimal strings. Prices are USDC per share
   (0..1, the implied probability); sizes are shares. Numbers are decimal strings.
2. One-off look: get_order_book(token_id).
3. Live data: subscribe_market_prices / subscribe_orderbook_updates / subscribe_market_resolution /
   subscribe_reference_prices / subscribe_crypto_prices / subscribe_comments return a subscription_id.
   Read its events with get_events(subscription_id, after_seq=0, wait_s=10), then call get_events again with
   after_seq=next_seq. Sequence numbers are dense, so passing next_seq back gets every event exactly
   once; `dropped` > 0 means the bounded buffer overflowed before you read (read more often).
   wait_s (max 25) long-polls: the call returns as soon as an event arrives.
4. get_realtime_status shows connections, subscriptions and counters; unsubscribe_realtime stops a
   subscription (or all=true). `feed_status` events tell you when the live connection dropped and
   recovered (books are `stale` meanwhile).
5. Reference prices (crypto, equity, forex, metals, 60 s TWAPs) come from Polymarket's PolyBolt socket:
   subscribe_reference_prices(symbols, channel) or subscribe_crypto_prices(symbols). They need the
   server's Polymarket API credentials; without them the tool says which variables to set.
"""


class PolymarketMCP(MCPServer[Application]):
    """MCPServer whose tool errors from our exception tree reach the model with their message, redacted."""

    _current_app: Callable[[], Application] | None = None
    enabled_toolsets: frozenset[str] = frozenset()
    """The POLYMARKET_MCP_TOOLSETS in force; extensions serving several toolsets register per toolset."""

    def running_app(self) -> Application:
        """The Application of the running lifespan (tests, demos, diagnostics); StateError if stopped."""
        if self._current_app is None:
            raise StateError("the server is not running", state="stopped")
        return self._current_app()

    _listed: dict[str, MCPTool] | None = None
    """The compacted tool list, rebuilt after a tool is added or removed (see tool_schemas)."""

    _registered: set[str] | None = None

    def add_tool(self, fn: Callable[..., Any], name: str | None = None, *args: Any, **kwargs: Any) -> None:
        # Registering a toolset again (enable_toolsets re-runs an extension's register_tools) keeps
        # the tools already there, silently.
        if self._registered is None:
            self._registered = set()
        key = f"tool:{name or getattr(fn, '__name__', '')}"
        if key in self._registered:
            return
        super().add_tool(fn, name, *args, **kwargs)
        self._registered.add(key)
        self._listed = None

    def add_resource(self, resource: Resource) -> None:
        if self._registered is None:
            self._registered = set()
        key = f"resource:{resource.uri}"
        if key in self._registered:
            return
        super().add_resource(resource)
        self._registered.add(key)

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        if self._registered is not None:
            self._registered.discard(f"tool:{name}")
        self._listed = None

    async def _listing(self) -> dict[str, MCPTool]:
        if self._listed is None:
            self._listed = {t.name: t for t in compact_tool_list(await super().list_tools())}
        return self._listed

    async def list_tools(self) -> list[MCPTool]:
        """Every tool with compact schemas (issue 11's tool-list budget; see :mod:`.tool_schemas`)."""
        return list((await self._listing()).values())

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Application, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        listed = (await self._listing()).get(name)
        if listed is not None:
            try:
                check_arguments(name, arguments, listed.input_schema)
            except InvalidInputError as exc:
                log.info("tool %s: %s", name, redactor.scrub(str(exc)))
                raise ToolError(f"{name}: {redactor.scrub(str(exc))}") from exc
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


def create_server(
    settings: Settings,
    *,
    feed_factory: FeedFactory | None = None,
    extensions: list[Extension] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> PolymarketMCP:
    """Build the server. ``feed_factory`` swaps the feed backend (a test double: no session ownership and no
    control-room Redis then)."""
    bus = InMemorySubscriptionBus()
    exts = default_extensions() if extensions is None else extensions
    starter = ExtensionStarter()
    holder: dict[str, Application] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer[Application]) -> AsyncIterator[Application]:
        shared = holder.get("app")
        if shared is not None:
            # A second transport in the same process (stdio plus the dashboard's /mcp, http/host.py)
            # shares the running services; the first entry owns them and tears them down.
            yield shared
            return
        notifier = Notifier(bus, clock=clock)
        async with (
            open_application(settings, notifier, feed_factory=feed_factory, clock=clock) as app,
            contextlib.AsyncExitStack() as stack,
        ):
            stack.callback(notifier.close)
            notify_sink = app.router.add_sink("mcp-notifier", 4096, event_types=[*BOOK_EVENT_TYPES, "feed_status"])
            stack.callback(notify_sink.close)
            app.task_group.start_soon(notifier.run, name="mcp-notifier")
            app.task_group.start_soon(notifier.drain_sink, notify_sink, name="mcp-notifier-sink")
            starter.started.clear()
            for ext in serving(mcp.enabled_toolsets):
                await ext.start(app, stack)
                starter.started.add(ext.name)
                log.info("extension %s started", ext.name)
            app.task_group.start_soon(starter.run, app, name="extension-starter")
            holder["app"] = app
            try:
                yield app
            finally:
                holder.pop("app", None)

    def current_app() -> Application:
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
    install_legacy_handlers(mcp)
    advertise_tools_list_changed(mcp)
    resources.register(mcp, current_app)

    def serving(toolsets: Iterable[str]) -> list[Extension]:
        return [ext for ext in exts if frozenset(toolsets) & extension_toolsets(ext)]

    def register(toolsets: Iterable[str]) -> None:
        """Register the tools of ``toolsets``; tools already there stay as they are."""
        new = frozenset(toolsets)
        mcp.enabled_toolsets = mcp.enabled_toolsets | new
        if "market" in new:
            tools_market.register(mcp)
        if "realtime" in new:
            tools_realtime.register(mcp)
        for ext in serving(new):
            ext.register_tools(mcp)

    register(settings.toolsets)
    if mcp.enabled_toolsets != frozenset(TOOLSETS):
        register_enable_tool(mcp, serving=serving, register=register, starter=starter, bus=bus)
    return mcp
