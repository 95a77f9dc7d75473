"""``app_context(ctx)``: the :class:`~polymarket_realtime.app.root.Application` behind an MCP request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..app.root import Application
from ..errors import StateError

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

__all__ = ["app_context"]


def app_context(ctx: Context[Any, Any]) -> Application:
    """The :class:`Application` of the request ``ctx`` (the server lifespan's result)."""
    app = ctx.request_context.lifespan_context
    if not isinstance(app, Application):
        raise StateError("the server is not fully started yet; retry in a moment", state="starting")
    return app
