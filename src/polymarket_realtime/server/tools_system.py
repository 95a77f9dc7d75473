"""Toolset ``system``: the master switch, aggregated status and the activity feed (also a resource)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..agents.models import ActivityPage, SystemStatus, SystemSwitchResult
from ..agents.system import MAX_ACTIVITY, SystemService
from ..app.root import Application
from ..app.validation import MAX_WAIT_S, check_wait_s
from .annotations import CHANGE as _CHANGE, READ_LOCAL as _READ
from .context import app_context
from .notify import ACTIVITY_URI

__all__ = ["register"]


def _system(ctx: Context[Application]) -> SystemService:
    return app_context(ctx).require_system()


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="System status",
        annotations=_READ,
        description=(
            "Aggregated live state: master switch, uptime, feed connections and statistics, paper sessions and "
            "agents per state, router subscriptions and books, SQLite health (quick_check + write probe), database "
            "size (file + WAL) and the last history-retention prune, latest activity seq, and what stop_system "
            "remembered."
        ),
    )
    async def get_system_status(ctx: Context[Application]) -> SystemStatus:
        return await _system(ctx).status()

    @mcp.tool(
        title="Stop the system",
        annotations=_CHANGE,
        description="Master switch off: pause every running paper session and stop every running agent, remembering "
        "which; start_system restores exactly those. Error if already stopped.",
    )
    async def stop_system(ctx: Context[Application]) -> SystemSwitchResult:
        return await _system(ctx).stop_system()

    @mcp.tool(
        title="Start the system",
        annotations=_CHANGE,
        description="Master switch on: resume the sessions and restart the agents that stop_system stopped "
        "(ones changed by hand since are left alone). Error if already running.",
    )
    async def start_system(ctx: Context[Application]) -> SystemSwitchResult:
        return await _system(ctx).start_system()

    @mcp.tool(
        title="Read the activity feed",
        annotations=_READ,
        description=(
            "The system-wide audit feed (session state changes, orders, fills, risk halts, alerts, agent errors), "
            "oldest first, entries with seq > after_seq; pass next_after_seq back to continue. With wait_s > 0 "
            f"(max {MAX_WAIT_S:g} s) it returns as soon as an entry exists: wait for a fill, halt, settlement or alert "
            f"this way instead of polling. Also the resource {ACTIVITY_URI}."
        ),
    )
    async def get_activity(
        ctx: Context[Application],
        after_seq: Annotated[int, Field(description="Cursor: return entries after this seq (0 = from the start).")] = 0,
        limit: Annotated[int, Field(description=f"Maximum entries, 1-{MAX_ACTIVITY}.")] = 100,
        wait_s: Annotated[
            float, Field(description=f"Long-poll seconds if nothing is new yet (0-{MAX_WAIT_S:g}; 0 = no wait).")
        ] = 0,
    ) -> ActivityPage:
        return await _system(ctx).read_activity(after_seq, limit, wait_s=check_wait_s(wait_s))
