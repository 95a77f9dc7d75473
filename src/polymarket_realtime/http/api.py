"""JSON API routes: each maps a URL to one MCP tool (:mod:`.calls`) and answers its result's JSON.

Reads are GET, every state change is POST. Path and query parameters become tool arguments; a POST
body (a JSON object) is the tool's arguments. Errors are ``{"error", "detail"}`` with 400/404/409/503.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .. import __version__
from ..app.history import equity_points
from ..app.root import Application
from ..errors import PolymarketRealtimeError
from .calls import ApiError, ToolCaller, error_for

__all__ = ["api_routes", "error_response"]

MAX_BODY = 1_000_000
Handler = Callable[[Request], Awaitable[Response]]


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "too_large", f"request body over {MAX_BODY} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"request body over {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_input", "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_input", "the request body must be a JSON object")
    return body


def _int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "invalid_input", f"{name} must be an integer (got {raw[:40]!r})") from None


def _query(request: Request, *names: str) -> dict[str, Any]:
    return {n: request.query_params[n] for n in names if request.query_params.get(n)}


def api_routes(
    caller: Callable[[], ToolCaller],
    app: Callable[[], Application],
    whoami: Callable[[], dict[str, Any]],
    metrics: Callable[[], str],
) -> list[Route]:
    """The /api routes; ``caller`` returns the running server's :class:`ToolCaller`."""

    def tool(name: str, args: Callable[[Request], Awaitable[dict[str, Any]]] | None = None) -> Handler:
        async def handler(request: Request) -> Response:
            try:
                arguments = await args(request) if args is not None else {}
                return JSONResponse(await caller().call(name, arguments))
            except ApiError as exc:
                return error_response(exc)

        return handler

    def path(*names: str) -> Callable[[Request], Awaitable[dict[str, Any]]]:
        async def build(request: Request) -> dict[str, Any]:
            return {n: request.path_params[n] for n in names}

        return build

    def body_with(*names: str) -> Callable[[Request], Awaitable[dict[str, Any]]]:
        async def build(request: Request) -> dict[str, Any]:
            return {**await _body(request), **{n: request.path_params[n] for n in names}}

        return build

    async def activity_args(request: Request) -> dict[str, Any]:
        return {
            k: v
            for k, v in {"after_seq": _int(request, "after_seq"), "limit": _int(request, "limit")}.items()
            if v is not None
        }

    async def logs_args(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = {"agent_id": request.path_params["agent_id"], **_query(request, "level", "contains")}
        lines = _int(request, "lines")
        if lines is not None:
            args["lines"] = lines
        return args

    async def search_args(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = {"query": request.query_params.get("q", "")}
        limit = _int(request, "limit")
        if limit is not None:
            args["limit"] = limit
        return args

    async def book_args(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = {"token_id": request.path_params["token_id"]}
        depth = _int(request, "depth")
        if depth is not None:
            args["depth"] = depth
        return args

    async def orders(request: Request) -> Response:
        """The session's open orders and recent fills (a slice of get_paper_session)."""
        try:
            view = await caller().call("get_paper_session", {"session_id": request.path_params["session_id"]})
        except ApiError as exc:
            return error_response(exc)
        return JSONResponse(
            {
                "session_id": view.get("session_id"),
                "orders": view.get("orders", []),
                "recent_fills": view.get("recent_fills", []),
            }
        )

    async def equity(request: Request) -> Response:
        """The session's saved equity snapshots (one per fill), oldest first; ``?limit=`` (1..1000, default 500)."""
        session_id = request.path_params["session_id"]
        try:
            limit = _int(request, "limit", 500)
            if limit is None or not 1 <= limit <= 1000:
                raise ApiError(400, "invalid_input", f"limit must be between 1 and 1000 (got {limit})")
            points = await equity_points(app(), session_id, limit)  # NotFoundError -> 404 for an unknown id
        except ApiError as exc:
            return error_response(exc)
        except PolymarketRealtimeError as exc:
            return error_response(error_for(exc))
        return JSONResponse({"session_id": session_id, "points": points})

    async def download_logs(request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        try:
            logs = await caller().call("get_agent_logs", {"agent_id": agent_id, "lines": 1000})
        except ApiError as exc:
            return error_response(exc)
        lines = [f"{line['ts_ms']} {line['level'].upper()} {line['message']}" for line in logs["lines"]]
        return PlainTextResponse(
            "\n".join(lines) + "\n",
            headers={"Content-Disposition": f'attachment; filename="agent-{agent_id[:40]}.log"'},
        )

    async def restart_agent(request: Request) -> Response:
        """No MCP tool restarts a stopped agent; the service method start_system uses does (master switch checked)."""
        try:
            forwarded = await caller().forwarded("restart_agent", {"agent_id": request.path_params["agent_id"]})
            if forwarded is not None:
                return JSONResponse(forwarded)
            agents = app().require_agents()
            view = await agents.restart_agent(request.path_params["agent_id"], "restarted from the dashboard")
        except PolymarketRealtimeError as exc:
            return error_response(error_for(exc))
        except ApiError as exc:
            return error_response(exc)
        return JSONResponse(view.model_dump(mode="json"))

    async def whoami_route(_request: Request) -> Response:
        return JSONResponse({**whoami(), "version": __version__})

    async def metrics_route(_request: Request) -> Response:
        return PlainTextResponse(metrics(), media_type="text/plain; version=0.0.4")

    get, post = ["GET"], ["POST"]
    return [
        Route("/api/whoami", whoami_route, methods=get),
        Route("/api/metrics", metrics_route, methods=get),
        Route("/api/system", tool("get_system_status"), methods=get),
        Route("/api/system/start", tool("start_system"), methods=post),
        Route("/api/system/stop", tool("stop_system"), methods=post),
        Route("/api/sessions", tool("list_paper_sessions"), methods=get),
        Route("/api/sessions", tool("create_paper_session", body_with()), methods=post),
        Route("/api/sessions/pause_all", tool("pause_all_sessions"), methods=post),
        Route("/api/sessions/resume_all", tool("resume_all_sessions"), methods=post),
        Route("/api/sessions/{session_id}", tool("get_paper_session", path("session_id")), methods=get),
        Route("/api/sessions/{session_id}/pause", tool("pause_paper_session", path("session_id")), methods=post),
        Route("/api/sessions/{session_id}/resume", tool("resume_paper_session", path("session_id")), methods=post),
        Route("/api/sessions/{session_id}/stop", tool("stop_paper_session", path("session_id")), methods=post),
        Route("/api/sessions/{session_id}/equity", equity, methods=get),
        Route("/api/sessions/{session_id}/orders", orders, methods=get),
        Route("/api/sessions/{session_id}/orders", tool("place_paper_order", body_with("session_id")), methods=post),
        Route(
            "/api/sessions/{session_id}/orders/{order_id}/cancel",
            tool("cancel_paper_order", path("session_id", "order_id")),
            methods=post,
        ),
        Route("/api/agents", tool("list_agents"), methods=get),
        Route("/api/agents", tool("start_agent", body_with()), methods=post),
        Route("/api/agents/{agent_id}", tool("get_agent", path("agent_id")), methods=get),
        Route("/api/agents/{agent_id}/stop", tool("stop_agent", path("agent_id")), methods=post),
        Route("/api/agents/{agent_id}/start", restart_agent, methods=post),
        Route("/api/agents/{agent_id}/logs", tool("get_agent_logs", logs_args), methods=get),
        Route("/api/agents/{agent_id}/logs/download", download_logs, methods=get),
        Route("/api/presets", tool("list_scanner_presets"), methods=get),
        Route("/api/presets", tool("save_scanner_preset", body_with()), methods=post),
        Route("/api/presets/{name}/delete", tool("delete_scanner_preset", path("name")), methods=post),
        Route("/api/activity", tool("get_activity", activity_args), methods=get),
        Route("/api/markets/search", tool("search_markets", search_args), methods=get),
        Route("/api/books/{token_id}", tool("get_order_book", book_args), methods=get),
    ]
