"""Toolsets turned on while the server runs: ``enable_toolsets`` and ``notifications/tools/list_changed``.

The server starts with ``POLYMARKET_MCP_TOOLSETS`` (default :data:`~polymarket_realtime.config.DEFAULT_TOOLSETS`,
what a first-time user needs) so the tool list stays small. ``enable_toolsets`` registers more toolsets
in the running process, starting their extension's services if none of its toolsets ran yet, then tells
clients the list changed: legacy clients through ``notifications/tools/list_changed`` on the calling
session (``tools.listChanged`` is advertised at ``initialize``), 2026-07-28 clients through
``ToolsListChanged`` on the subscription bus. Clients that ignore the notification (Claude Desktop and
Claude Code at the time of writing) keep their first list: for them the result says which
``POLYMARKET_MCP_TOOLSETS`` value to set instead.

Extensions started late run in :class:`ExtensionStarter`'s task inside the lifespan's task group, so
the task that enters their async contexts also exits them, after the tools stop and before the feed closes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server import NotificationOptions
from mcp.server.mcpserver import Context
from mcp.server.subscriptions import SubscriptionBus, ToolsListChanged
from pydantic import BaseModel, Field

from ..app.root import Application
from ..config import TOOLSETS
from ..errors import InvalidInputError, StateError
from .annotations import IDEMPOTENT_ACTION
from .context import app_context

if TYPE_CHECKING:
    from .app import PolymarketMCP
    from .extensions import Extension

__all__ = [
    "TOOLSET_SUMMARIES",
    "ExtensionStarter",
    "ToolsetsResult",
    "advertise_tools_list_changed",
    "extension_toolsets",
    "register_enable_tool",
]

log = logging.getLogger(__name__)

TOOLSET_SUMMARIES: dict[str, str] = {
    "market": "market search, order books",
    "realtime": "live subscriptions",
    "user": "your orders/trades; needs credentials",
    "paper": "paper trading",
    "agents": "alerts, scanner, strategies",
    "system": "master switch, status, activity",
    "recording": "record, backtest",
}


def extension_toolsets(ext: Extension) -> frozenset[str]:
    return frozenset(ext.toolsets)


@dataclass(eq=False)
class _Request:
    ext: Extension
    done: anyio.Event = field(default_factory=anyio.Event)
    error: Exception | None = None


class ExtensionStarter:
    """Runs ``ext.start`` for extensions enabled after the lifespan began, in one long-lived task."""

    def __init__(self) -> None:
        self.started: set[str] = set()
        self._send: MemoryObjectSendStream[_Request] | None = None

    async def run(self, app: Application) -> None:
        """Serve start requests until cancelled, then close what was started (shielded)."""
        send, receive = anyio.create_memory_object_stream[_Request](16)
        stack = contextlib.AsyncExitStack()
        self._send = send
        try:
            async with receive:
                async for request in receive:
                    if request.ext.name not in self.started:  # two enable calls may race for one extension
                        try:
                            await request.ext.start(app, stack)
                            self.started.add(request.ext.name)
                            log.info("extension %s started at run time", request.ext.name)
                        except Exception as exc:
                            request.error = exc
                    request.done.set()
        finally:
            self._send = None
            send.close()
            with anyio.CancelScope(shield=True):
                await stack.aclose()

    async def start(self, ext: Extension) -> None:
        if ext.name in self.started:
            return
        if self._send is None:
            raise StateError("the server is not running", state="stopped")
        request = _Request(ext)
        await self._send.send(request)
        await request.done.wait()
        if request.error is not None:
            raise request.error


class ToolsetsResult(BaseModel):
    enabled: list[str]
    added_tools: list[str]
    next_step: str


def advertise_tools_list_changed(mcp: PolymarketMCP) -> None:
    """Make the legacy ``initialize`` answer say ``tools.listChanged: true``.

    ``MCPServer`` builds its initialization options without ``NotificationOptions`` (so every flag is
    false) and has no public hook for them; this wraps the private low-level server's factory, and
    ``tests/integration/test_toolsets.py`` pins it so an SDK change fails loudly.
    """
    low = getattr(mcp, "_lowlevel_server", None)
    original = getattr(low, "create_initialization_options", None)
    if low is None or original is None:
        raise RuntimeError("mcp SDK changed: MCPServer._lowlevel_server.create_initialization_options is gone")

    def create_initialization_options(notification_options: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(notification_options or NotificationOptions(tools_changed=True), *args, **kwargs)

    low.create_initialization_options = create_initialization_options


def register_enable_tool(
    mcp: PolymarketMCP,
    *,
    serving: Callable[[Iterable[str]], list[Extension]],
    register: Callable[[Iterable[str]], None],
    starter: ExtensionStarter,
    bus: SubscriptionBus,
) -> None:
    """Add ``enable_toolsets``: ``serving(toolsets)`` names the extensions to start for them, then
    ``register(toolsets)`` registers their tools."""
    offered = [t for t in TOOLSETS if t not in mcp.enabled_toolsets]
    listing = ", ".join(f"{t} ({TOOLSET_SUMMARIES.get(t, t)})" for t in offered)

    @mcp.tool(
        title="Enable more toolsets",
        annotations=IDEMPOTENT_ACTION,
        description=f"Add toolsets: {listing}. Then list tools again; if nothing new appears, the client "
        "ignores list changes: ask the user to set POLYMARKET_MCP_TOOLSETS and restart.",
    )
    async def enable_toolsets(
        ctx: Context[Application],
        toolsets: Annotated[list[str], Field(description="Toolset names, or ['all'].")],
    ) -> ToolsetsResult:
        app_context(ctx)  # the server must be running (its services are started below)
        wanted = {t.strip().lower() for t in toolsets if t.strip()}
        if "all" in wanted:
            wanted = set(TOOLSETS)
        unknown = sorted(wanted - set(TOOLSETS))
        if unknown or not wanted:
            raise InvalidInputError(
                f"unknown toolsets {unknown}; choose from {', '.join(TOOLSETS)} or all"
                if unknown
                else f"toolsets is empty; choose from {', '.join(TOOLSETS)} or all"
            )
        new = [t for t in TOOLSETS if t in wanted and t not in mcp.enabled_toolsets]
        before = {t.name for t in await mcp.list_tools()}
        if new:
            for ext in serving(new):  # services first: a tool is listed only once it can work
                await starter.start(ext)
            register(new)
            # Re-registered so its description offers only what is still off (gone once everything is on).
            mcp.remove_tool("enable_toolsets")
            if mcp.enabled_toolsets != frozenset(TOOLSETS):
                register_enable_tool(mcp, serving=serving, register=register, starter=starter, bus=bus)
        added = [t.name for t in await mcp.list_tools() if t.name not in before]
        if new:
            await _announce(ctx, bus)
        enabled = [t for t in TOOLSETS if t in mcp.enabled_toolsets]
        return ToolsetsResult(
            enabled=enabled,
            added_tools=added,
            next_step="List the tools again to see the new ones. If they are missing, the client keeps its first "
            f"tool list: set POLYMARKET_MCP_TOOLSETS={','.join(enabled)} in the server's environment and restart it.",
        )


async def _announce(ctx: Context[Application], bus: SubscriptionBus) -> None:
    try:
        await bus.publish(ToolsListChanged())
    except Exception:
        log.debug("tools list_changed publish failed", exc_info=True)
    if (ctx.protocol_version or "") >= "2026":
        return  # modern clients learn it from the bus (subscriptions/listen)
    with anyio.move_on_after(2.0):
        try:
            await ctx.session.send_tool_list_changed()
        except Exception:
            log.debug("tools/list_changed send failed", exc_info=True)
