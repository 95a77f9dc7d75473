"""Run an operation for an HTTP request: the same argument checks, services and error texts as the MCP tool.

Each JSON API route names an operation (:mod:`.operations`, named after the MCP tool it mirrors) and builds
its arguments; :meth:`ToolCaller.call` refuses unknown arguments (the shared
:func:`~polymarket_realtime.app.strict_args.check_arguments`), validates the rest with pydantic and calls
the application services directly. Failures become :class:`ApiError` with the HTTP status their exception
type implies.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..app.root import Application
from ..app.strict_args import check_arguments
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
from .operations import OPERATIONS

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


class ToolCaller:
    """Runs the operation a route names (:data:`~.operations.OPERATIONS`) on the running application."""

    def __init__(self, app: Application) -> None:
        self._app = app

    @classmethod
    async def create(cls, app: Application) -> ToolCaller:
        return cls(app)

    def has(self, name: str) -> bool:
        return name in OPERATIONS

    async def forwarded(self, op: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Redis mode (``redis_bridge.ForwardingCaller``): the owner's answer to ``op``; here, None (run it locally)."""
        return None

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The operation's result as JSON; :class:`ApiError` on any failure."""
        operation = OPERATIONS.get(name)
        if operation is None:
            raise ApiError(503, "unavailable", f"{name} is not available in this server.")
        try:
            check_arguments(name, arguments, {"properties": dict.fromkeys(operation.args.model_fields)})
            args = operation.args.model_validate(arguments)
            result = await operation.run(self._app, args)
        except ValidationError as exc:
            raise ApiError(400, "invalid_input", _validation_text(name, exc)) from None
        except PolymarketRealtimeError as exc:
            raise error_for(exc) from None
        dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True)
        return dumped


def _validation_text(tool: str, exc: ValidationError) -> str:
    """pydantic's per-field messages, as the MCP tool reports them (without the URL lines)."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or tool
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return redactor.scrub("; ".join(parts))
