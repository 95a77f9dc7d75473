"""Run an MCP tool for an HTTP request: the same argument validation, code and error texts as MCP.

Each JSON API route names a tool and builds its arguments; :meth:`ToolCaller.call` runs the tool
through :meth:`MCPServer.call_tool` (of a private registry of the same tool functions, :func:`api_tools`)
with a request context carrying the running
:class:`~polymarket_realtime.server.context.Application`, so nothing the tool checks or does is
repeated here. Failures become :class:`ApiError` with the HTTP status their exception type implies.
"""

from __future__ import annotations

import json
from typing import Any, cast

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from ..app.root import Application
from ..errors import (
    InvalidInputError,
    NotFoundError,
    PolymarketRealtimeError,
    RiskLimitError,
    StaleDataError,
    StateError,
    VenueError,
)
from ..secrets import redactor
from ..server.app import PolymarketMCP

__all__ = ["ApiError", "ToolCaller", "error_for"]

_UNAVAILABLE_STATES = {"service_missing", "unavailable", "starting"}


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail

    def body(self) -> dict[str, str]:
        return {"error": self.error, "detail": self.detail}


def error_for(exc: BaseException) -> ApiError:
    """The HTTP answer for one of our exceptions (message redacted)."""
    detail = redactor.scrub(str(exc))
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", detail)
    if isinstance(exc, InvalidInputError):
        return ApiError(400, "invalid_input", detail)
    if isinstance(exc, StateError):
        if exc.state in _UNAVAILABLE_STATES:
            return ApiError(503, "unavailable", detail)
        return ApiError(409, "wrong_state", detail)
    if isinstance(exc, RiskLimitError):
        return ApiError(409, "risk_limit", detail)
    if isinstance(exc, StaleDataError):
        return ApiError(409, "stale_data", detail)
    if isinstance(exc, VenueError):
        return ApiError(502, "venue_error", detail)
    if isinstance(exc, PolymarketRealtimeError):
        return ApiError(500, "server_error", detail)
    return ApiError(500, "server_error", "internal error; see the server log")


def api_tools() -> PolymarketMCP:
    """A private, never-served registry of the tools the API uses (market, paper, agents, system).

    The dashboard's operations do not depend on which toolsets the model is offered
    (POLYMARKET_MCP_TOOLSETS, enable_toolsets): a route answers 503 only when the service behind it does
    not run in this server. The tool functions are the very ones the MCP server registers.
    """
    from ..server import tools_agents, tools_market, tools_paper, tools_system

    registry = PolymarketMCP(name="polymarket-realtime-control-room")
    for module in (tools_market, tools_paper, tools_agents, tools_system):
        module.register(registry)
    return registry


class ToolCaller:
    def __init__(self, mcp: PolymarketMCP, app: Application, tool_names: set[str]) -> None:
        self._mcp = mcp
        self._app = app
        self._tools = tool_names

    @classmethod
    async def create(cls, app: Application, registry: PolymarketMCP | None = None) -> ToolCaller:
        tools = registry or api_tools()
        return cls(tools, app, {t.name for t in await tools.list_tools()})

    def has(self, name: str) -> bool:
        return name in self._tools

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The tool's structured result; :class:`ApiError` on any failure."""
        if name not in self._tools:
            raise ApiError(503, "unavailable", f"{name} is not available in this server.")
        request = ServerRequestContext(
            session=cast(Any, None),  # no MCP session behind an HTTP API call; our tools never use it
            lifespan_context=self._app,
            protocol_version="http-api",
            method="tools/call",
        )
        ctx: Context[Application, Any] = Context(request_context=request, mcp_server=self._mcp)
        try:
            result = await self._mcp.call_tool(name, arguments, ctx)
        except ToolError as exc:
            cause = _root_cause(exc)
            if isinstance(cause, ValidationError):
                raise ApiError(400, "invalid_input", _validation_text(name, cause)) from None
            if cause is not None:
                raise error_for(cause) from None
            raise ApiError(400, "invalid_input", redactor.scrub(str(exc))) from None
        structured = getattr(result, "structured_content", None)
        if structured is None:  # pragma: no cover - every tool here returns a model
            text = " ".join(getattr(b, "text", "") for b in getattr(result, "content", []))
            return cast(dict[str, Any], json.loads(text))
        return dict(structured)


def _root_cause(exc: BaseException) -> BaseException | None:
    """The first of our errors or a pydantic ValidationError down the ``__cause__`` chain (tool wrappers nest)."""
    cause = exc.__cause__
    while cause is not None and not isinstance(cause, (ValidationError, PolymarketRealtimeError)):
        cause = cause.__cause__
    return cause


def _validation_text(tool: str, exc: ValidationError) -> str:
    """pydantic's per-field messages, as the MCP tool reports them (without the URL lines)."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or tool
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return redactor.scrub("; ".join(parts))
