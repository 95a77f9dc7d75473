"""Server extensions: how the user, paper/agents and recording features plug into the MCP server.

An extension module defines a module-level ``EXTENSION`` object satisfying :class:`Extension`.
``create_server`` calls ``register_tools(mcp)`` for every extension whose ``toolset`` (or any of its
optional ``toolsets``) is enabled by ``POLYMARKET_MCP_TOOLSETS``; an extension serving several toolsets
reads ``mcp.enabled_toolsets``. ``enable_toolsets`` (server/toolsets.py) may call ``register_tools``
again later with more toolsets enabled: tools and resources already registered are kept, silently.
The lifespan calls ``await start(app, stack)`` once, after the core services exist (or, for an
extension enabled later, the first time one of its toolsets is enabled). A module that is not written yet is
skipped; an extension that fails to import for any other reason fails loudly.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from .context import AppContext

__all__ = ["EXTENSION_MODULES", "Extension", "load_extensions"]

log = logging.getLogger(__name__)


@runtime_checkable
class Extension(Protocol):
    name: str
    """"paper", "user", "recording", ..."""
    toolset: str
    """The POLYMARKET_MCP_TOOLSETS name that enables this extension's tools."""

    def register_tools(self, mcp: MCPServer[AppContext]) -> None: ...

    async def start(self, app: AppContext, stack: contextlib.AsyncExitStack) -> None:
        """Build the service, ``app.add_service(svc)``, enter its async contexts on ``stack`` and start
        background tasks in ``app.task_group``. Runs once in the server lifespan."""
        ...


EXTENSION_MODULES = [
    "polymarket_realtime.server.ext_user",
    "polymarket_realtime.server.ext_paper",
    "polymarket_realtime.server.ext_recording",
]


def load_extensions() -> list[Extension]:
    """Import every module in :data:`EXTENSION_MODULES` that exists and return its ``EXTENSION``."""
    found: list[Extension] = []
    for module_name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                log.debug("extension %s not present; skipped", module_name)
                continue
            raise
        extension = getattr(module, "EXTENSION", None)
        if extension is None:
            raise TypeError(f"{module_name} defines no module-level EXTENSION")
        found.append(extension)
    return found
