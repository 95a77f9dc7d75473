"""Extension ``paper``: the ``paper``, ``agents`` and ``system`` tools and the ``polymarket://activity`` resource.

``start`` runs :func:`~polymarket_realtime.app.services.start_sessions` (SQLite-backed sessions, agents and
system control; in shared-feed mode only while this server owns them).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..app.services import start_sessions
from . import tools_agents, tools_paper, tools_system
from .notify import ACTIVITY_URI

if TYPE_CHECKING:
    from ..app.root import Application
    from .app import PolymarketMCP

__all__ = ["EXTENSION", "PaperExtension"]


class PaperExtension:
    name = "paper"
    toolsets: tuple[str, ...] = ("paper", "agents", "system")

    def register_tools(self, mcp: PolymarketMCP) -> None:
        enabled = mcp.enabled_toolsets
        if "paper" in enabled:
            tools_paper.register(mcp)
        if "agents" in enabled:
            tools_agents.register(mcp)
        if "system" in enabled:
            tools_system.register(mcp)

        @mcp.resource(
            ACTIVITY_URI,
            name="activity",
            title="Activity feed",
            description="The latest 100 activity entries (state changes, fills, risk events, alerts, agent errors).",
            mime_type="application/json",
        )
        async def activity() -> str:
            system = mcp.running_app().require_system()
            page = await system.read_activity(max(0, (await system.read_activity(0, 1)).latest_seq - 100), 100)
            return page.model_dump_json(indent=2)

    async def start(self, app: Application, stack: contextlib.AsyncExitStack) -> None:
        await start_sessions(app, stack)


EXTENSION = PaperExtension()
