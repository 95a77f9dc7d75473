"""Server extensions: how the user, paper/agents/system and recording toolsets plug into the MCP server.

Registration is explicit: :data:`EXTENSIONS` lists them. ``create_server`` calls ``register_tools(mcp)``
for every extension one of whose ``toolsets`` is enabled by ``POLYMARKET_MCP_TOOLSETS``; an extension
serving several toolsets reads ``mcp.enabled_toolsets``. ``enable_toolsets`` (server/toolsets.py) may call
``register_tools`` again later with more toolsets enabled: tools and resources already registered are
kept, silently. The lifespan calls ``await start(app, stack)`` once, after the core services exist (or,
for an extension enabled later, the first time one of its toolsets is enabled); ``start`` delegates to
:mod:`polymarket_realtime.app.services`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..app.root import Application
    from .app import PolymarketMCP

__all__ = ["Extension", "default_extensions"]


class Extension(Protocol):
    name: str
    """"paper", "user", "recording", ..."""
    toolsets: tuple[str, ...]
    """The POLYMARKET_MCP_TOOLSETS names that enable this extension's tools."""

    def register_tools(self, mcp: PolymarketMCP) -> None: ...

    async def start(self, app: Application, stack: contextlib.AsyncExitStack) -> None:
        """Start the extension's service(s) on ``app``; runs once in the server lifespan."""
        ...


def default_extensions() -> list[Extension]:
    """Every extension, in start order."""
    from .ext_paper import EXTENSION as PAPER
    from .ext_recording import EXTENSION as RECORDING
    from .ext_user import EXTENSION as USER

    return [USER, PAPER, RECORDING]
