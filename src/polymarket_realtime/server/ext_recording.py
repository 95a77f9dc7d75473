"""Extension ``recording``: record the live feed to files, list them, and backtest strategies on them.

:class:`~polymarket_realtime.recording.service.RecordingService` is built once in the server lifespan:
it attaches one raw-frame tap to the feed and writes recordings to ``<data_dir>/recordings``. Active
recordings are stopped (flushed and closed with a footer) when the server shuts down.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..recording.service import RecordingService

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from .context import AppContext

__all__ = ["EXTENSION", "RecordingExtension"]


class RecordingExtension:
    name = "recording"
    toolset = "recording"

    def register_tools(self, mcp: MCPServer[AppContext]) -> None:
        from . import tools_recording

        tools_recording.register(mcp)

    async def start(self, app: AppContext, stack: contextlib.AsyncExitStack) -> None:
        service = RecordingService(
            app.settings.recordings_dir,
            app.feed,
            app.books,
            markets=app.gamma,
            source=app.settings.market_ws_url.split("?", 1)[0],
        )
        await service.start(app.task_group)
        app.add_service(service)
        # Runs before the task group is cancelled (the stack unwinds in reverse): files end cleanly.
        stack.push_async_callback(service.aclose)


EXTENSION = RecordingExtension()
