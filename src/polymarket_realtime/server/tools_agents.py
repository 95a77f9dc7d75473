"""Toolset ``agents``: long-running agents driven by live events (alerts, scanner, strategies)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..agents.journal import MAX_LOG_LINES
from ..agents.models import AgentList, AgentLogs, AgentView, PresetList
from ..agents.service import AgentService
from ..app.root import Application
from .annotations import CHANGE as _CHANGE, CREATE as _CREATE, READ_LOCAL as _READ
from .context import app_context

__all__ = ["register"]


AgentId = Annotated[str, Field(description="Agent id from start_agent / list_agents.")]


def _agents(ctx: Context[Application]) -> AgentService:
    return app_context(ctx).require_agents()


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="List agents",
        annotations=_READ,
        description="Every agent with state (running/stopped/error), counters and stats, plus the available kinds.",
    )
    def list_agents(ctx: Context[Application]) -> AgentList:
        return _agents(ctx).list_agents()

    @mcp.tool(
        title="Start an agent",
        annotations=_CREATE,
        description=(
            "Start a long-running agent on live events; returns agent_id. config by kind:\n"
            "- price_alert: {token_id, condition: above|below|cross, price} or {token_id, move: 0.02} (2 cents from "
            "the start; move_mode relative: 0.1 = 10%; direction: either|up|down); repeat (false), source "
            "(mid|last_trade). Fires to alerts, activity, notifications.\n"
            "- market_scanner: {token_ids (default: subscribed), preset: balanced|liquidity|momentum|quiet|<saved> "
            "or weights: {spread, depth, momentum, volatility}, window, depth_levels, top_n}; ranking: get_agent.\n"
            "- strategy: {token_id, strategy: mean_reversion, params: {window, threshold, order_size, max_position, "
            "cooldown}} + session_id: trades that paper session.\n"
            "Survives restarts; logs: get_agent_logs."
        ),
    )
    async def start_agent(
        ctx: Context[Application],
        kind: Annotated[Literal["price_alert", "market_scanner", "strategy"], Field(description="Agent kind.")],
        config: Annotated[dict[str, Any], Field(description="Kind-specific configuration (see description).")],
        session_id: Annotated[str | None, Field(description="Paper session to trade (strategy only).")] = None,
    ) -> AgentView:
        return await _agents(ctx).start_agent(kind, config, session_id)  # checks the master switch itself

    @mcp.tool(
        title="Stop an agent",
        annotations=_CHANGE,
        description="Stop a running agent (its logs and stats stay readable). Error if it is not running.",
    )
    async def stop_agent(ctx: Context[Application], agent_id: AgentId) -> AgentView:
        return await _agents(ctx).stop_agent(agent_id)

    @mcp.tool(
        title="Get an agent",
        annotations=_READ,
        description="One agent: status and reason, last active time, counters and kind-specific stats "
        "(alerts fired, scanner ranking, strategy orders and position).",
    )
    def get_agent(ctx: Context[Application], agent_id: AgentId) -> AgentView:
        return _agents(ctx).view(agent_id)

    @mcp.tool(
        title="Read an agent's log",
        annotations=_READ,
        description=f"The newest `lines` (1-{MAX_LOG_LINES}) log lines of an agent, oldest first, optionally only one "
        "level (debug/info/warning/error) and/or lines containing a text (case-insensitive).",
    )
    async def get_agent_logs(
        ctx: Context[Application],
        agent_id: AgentId,
        lines: Annotated[int, Field(description=f"How many lines, 1-{MAX_LOG_LINES}.")] = 100,
        level: Annotated[
            Literal["debug", "info", "warning", "error"] | None, Field(description="Only this level.")
        ] = None,
        contains: Annotated[str | None, Field(description="Only lines containing this text.")] = None,
    ) -> AgentLogs:
        return await _agents(ctx).logs(agent_id, lines, level, contains)

    @mcp.tool(
        title="List scanner weight presets",
        annotations=_READ,
        description="Named weight presets for market_scanner (built-in and saved): metric -> weight.",
    )
    def list_scanner_presets(ctx: Context[Application]) -> PresetList:
        return _agents(ctx).list_presets()

    @mcp.tool(
        title="Save a scanner weight preset",
        annotations=_CHANGE,
        description="Save (or replace) a named preset: weights for spread, depth, momentum, volatility in [-100, 100] "
        "(negative penalizes). Built-in presets cannot be overwritten.",
    )
    async def save_scanner_preset(
        ctx: Context[Application],
        name: Annotated[str, Field(description="1-50 letters, digits, '-' or '_'.")],
        weights: Annotated[dict[str, float], Field(description='e.g. {"spread": 2, "depth": 1}')],
    ) -> PresetList:
        return await _agents(ctx).save_preset(name, weights)

    @mcp.tool(
        title="Delete a scanner weight preset",
        annotations=_CHANGE,
        description="Delete a saved preset (built-in ones cannot be deleted).",
    )
    async def delete_scanner_preset(
        ctx: Context[Application], name: Annotated[str, Field(description="Preset name.")]
    ) -> PresetList:
        return await _agents(ctx).delete_preset(name)
