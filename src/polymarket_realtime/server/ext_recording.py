"""Extension ``recording``: the recording/backtest tools over the recording service."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..app.services import start_recording

if TYPE_CHECKING:
    from ..app.root import Application
    from .app import PolymarketMCP

__all__ = ["EXTENSION", "RecordingExtension"]


class RecordingExtension:
    name = "recording"
    toolsets: tuple[str, ...] = ("recording",)

    def register_tools(self, mcp: PolymarketMCP) -> None:
        from . import tools_recording

        tools_recording.register(mcp)

    async def start(self, app: Application, stack: contextlib.AsyncExitStack) -> None:
        await start_recording(app, stack)


EXTENSION = RecordingExtension()
