"""The control-room app: MCP Streamable HTTP, dashboard, JSON API, WebSockets and /health in one
Starlette app served by uvicorn, alone (``serve --http``) or beside stdio (``POLYMARKET_MCP_DASHBOARD``).

Every request first passes :class:`GuardMiddleware` (Host, Origin, token; see :mod:`.auth`), which
covers ``/mcp`` too; the SDK's own transport security (its Host/Origin allowlists) is set to the same
names. The MCP lifespan is entered through ``mcp.session_manager.run()``; when stdio already runs it,
both transports share the one set of services (``server/app.py``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app.root import Application
from ..config import Settings
from ..errors import ConfigError
from .api import api_routes
from .auth import (
    COOKIE_MAX_AGE,
    Guard,
    is_loopback,
    load_or_create_token,
    login_link,
    login_page,
    wants_login_page,
)
from .calls import ToolCaller
from .hub import Hub
from .metrics import EventRate, render
from .redis_bridge import ControlBridge
from .sources import Sources
from .ws import SessionStream, WsEndpoint

__all__ = ["ControlRoom", "HttpOptions", "bind_socket", "check_bind", "parse_dashboard"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_PORT = 8787
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


@dataclass
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    allow_remote: bool = False
    extra_hosts: list[str] = field(default_factory=list)


def check_bind(options: HttpOptions) -> None:
    """A non-loopback address needs the explicit opt-in (the token is required on every route anyway)."""
    if not is_loopback(options.host) and not options.allow_remote:
        raise ConfigError(
            "--host",
            f"{options.host} is not a loopback address: the dashboard can trade paper sessions, so binding it "
            "beyond this machine needs --allow-remote (POLYMARKET_MCP_DASHBOARD_ALLOW_REMOTE=true); every "
            "request still needs the token",
        )


def parse_dashboard(raw: str) -> HttpOptions:
    """``POLYMARKET_MCP_DASHBOARD``: ``host:port``, ``:port`` or ``port``."""
    value = raw.strip()
    host, _, port_text = value.rpartition(":") if ":" in value else ("", "", value)
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(
            "POLYMARKET_MCP_DASHBOARD", f"expected host:port such as 127.0.0.1:8787, not {raw!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise ConfigError("POLYMARKET_MCP_DASHBOARD", f"port must be 0-65535, not {port}")
    return HttpOptions(host=host, port=port)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before uvicorn starts: an address in use is an ordinary error here, and port 0 gets its number."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


class _RefusedUpgradeFilter(logging.Filter):
    """Uvicorn logs an ERROR for every WebSocket upgrade answered with an HTTP status instead of an accept;
    that is how :class:`GuardMiddleware` refuses one (401/403), which is not a server error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("ASGI callable returned without completing handshake")


def quiet_refused_upgrades() -> None:
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _RefusedUpgradeFilter) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_RefusedUpgradeFilter())


class GuardMiddleware:
    """Host/Origin/token checks for every HTTP and WebSocket request, and the cookie login."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            headers[key.decode("latin-1").lower()] = value.decode("latin-1")
        cookies: dict[str, str] = {}
        if "cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(headers["cookie"])
            cookies = {k: m.value for k, m in jar.items()}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_token = query.get("token", [None])[-1]
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        decision = self.guard.check(
            method=method,
            path=path,
            headers=headers,
            cookies=cookies,
            query_token=query_token,
            websocket=kind == "websocket",
        )
        if decision.status:
            body = JSONResponse({"error": decision.error, "detail": decision.detail}, status_code=decision.status)
            if kind == "websocket":
                await self._deny_websocket(scope, send, body)
            elif decision.status == 401 and wants_login_page(method, path):
                # A person opening the page, not a program: say how to log in.
                await HTMLResponse(login_page(), status_code=401)(scope, receive, send)
            else:
                await body(scope, receive, send)
            return
        if kind == "http" and path == "/" and method == "GET" and self.guard.token_ok(query_token):
            # The login link: trade the token in the URL for a cookie the page's scripts cannot read,
            # and drop it from the address bar (and from any later Referer).
            response = Response(status_code=303, headers={"location": "/"})
            response.set_cookie(
                self.guard.cookie_name,
                self.guard.cookie_value,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="strict",
                path="/",
            )
            await response(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send) if kind == "http" else send)

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_SECURITY_HEADERS]}
            await send(message)

        return wrapped

    @staticmethod
    async def _deny_websocket(scope: Scope, send: Send, body: JSONResponse) -> None:
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": body.status_code,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": body.body})
        else:
            await send({"type": "websocket.close", "code": 1008})


PLACEHOLDER = """<!doctype html><html lang="en"><meta charset="utf-8"><title>polymarket-realtime control room</title>
<body><h1>polymarket-realtime control room</h1><p>The dashboard page is not installed in this build;
the JSON API is under <code>/api/</code> and WebSockets at <code>/ws</code>.</p></body></html>"""


class HostedMcp(Protocol):
    """What the control room needs of the MCP server it hosts at ``/mcp`` (``server.app.PolymarketMCP``)."""

    @property
    def session_manager(self) -> StreamableHTTPSessionManager: ...
    def streamable_http_app(
        self, *, streamable_http_path: str = ..., transport_security: TransportSecuritySettings | None = ...
    ) -> Starlette: ...
    def running_app(self) -> Application: ...


class ControlRoom:
    """The HTTP side of one server process."""

    def __init__(
        self,
        mcp: HostedMcp,
        settings: Settings,
        options: HttpOptions,
        *,
        token: str | None = None,
        hub: Hub | None = None,
    ):
        self.mcp = mcp
        self.settings = settings
        self.options = options
        self.token = token if token is not None else load_or_create_token(settings.data_dir)
        self.hub = hub or Hub()
        self.ready = anyio.Event()
        self.rate = EventRate()
        self._caller: ToolCaller | None = None
        self._sources: Sources | None = None
        self._server: Any = None
        self._guard: Guard | None = None

    # --- the running parts ---------------------------------------------------------------------

    def caller(self) -> ToolCaller:
        if self._caller is None:
            raise RuntimeError("the control room is not started")
        return self._caller

    @property
    def sources(self) -> Sources:
        if self._sources is None:
            raise RuntimeError("the control room is not started")
        return self._sources

    def app_context(self) -> Application:
        return self.mcp.running_app()

    def whoami(self) -> dict[str, Any]:
        sources = self._sources
        return {
            "server": "polymarket-realtime-mcp",
            "redis": self.settings.redis_url is not None,
            "owner": sources is not None and sources.paper is not None,
        }

    def metrics(self) -> str:
        return render(self.hub, self.sources, self.rate)

    # --- the ASGI app --------------------------------------------------------------------------

    def asgi(self, port: int) -> ASGIApp:
        extra = [] if self.options.host in ("0.0.0.0", "::", "") else [self.options.host]
        guard = Guard(
            self.token, port, extra_hosts=[*extra, *self.options.extra_hosts], remote=self.options.allow_remote
        )
        self._guard = guard
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=guard.allowed_hosts,
            allowed_origins=guard.allowed_origins,
        )
        mcp_app = self.mcp.streamable_http_app(streamable_http_path="/mcp", transport_security=security)

        async def health(_request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def index(_request: Request) -> Response:
            page = STATIC_DIR / "index.html"
            if page.is_file():
                return FileResponse(page, media_type="text/html")
            return HTMLResponse(PLACEHOLDER)

        async def ws(websocket: Any) -> None:
            await WsEndpoint(self.hub, self.sources)(websocket)

        async def session_ws(websocket: Any) -> None:
            await SessionStream(self.hub, self.sources)(websocket)

        routes: list[BaseRoute] = [
            Route("/health", health, methods=["GET"]),
            Route("/", index, methods=["GET"]),
            # Only when the page is installed: a missing folder would make StaticFiles answer 500.
            *([Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static")] if STATIC_DIR.is_dir() else []),
            *api_routes(self.caller, self.app_context, self.whoami, self.metrics),
            WebSocketRoute("/ws", ws),
            WebSocketRoute("/ws/sessions/{session_id}", session_ws),
            *mcp_app.routes,  # the SDK's /mcp route itself (a catch-all mount would turn 405s into 404s)
        ]

        async def not_found(_request: Request, exc: Exception) -> Response:
            status = int(getattr(exc, "status_code", 404))
            detail = "no such route" if status == 404 else "method not allowed (state changes are POST)"
            return JSONResponse(
                {"error": "not_found" if status == 404 else "method_not_allowed", "detail": detail}, status_code=status
            )

        app = Starlette(routes=routes, lifespan=self._lifespan, exception_handlers={404: not_found, 405: not_found})
        return GuardMiddleware(app, guard)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        async with self.mcp.session_manager.run():
            app = self.mcp.running_app()
            self._caller = await ToolCaller.create(app)
            sources = Sources(app, self.hub)
            self._sources = sources
            bridge = ControlBridge(app, self.hub, sources, self._caller) if ControlBridge.applies(app) else None
            async with anyio.create_task_group() as tg:
                await sources.start(tg)
                if bridge is not None:  # Redis mode: the owner's live state and control actions (redis_bridge.py)
                    await bridge.start(tg)
                    self._caller = bridge.caller
                self.ready.set()
                try:
                    yield
                finally:
                    sources.close()
                    tg.cancel_scope.cancel()
                    if bridge is not None:
                        with anyio.CancelScope(shield=True):
                            await bridge.close()

    # --- serving -------------------------------------------------------------------------------

    async def serve(self, sock: socket.socket | None = None, *, announce: bool = True) -> None:
        """Serve until :meth:`stop` (or a signal). Binds ``options.host:port`` unless given a socket."""
        import uvicorn

        check_bind(self.options)
        sock = sock or bind_socket(self.options.host, self.options.port)
        port = int(sock.getsockname()[1])
        # With --port 0 this is the only place the chosen port shows up in the log (the link is not logged).
        log.info("dashboard listening on %s port %d", self.options.host, port)
        quiet_refused_upgrades()
        config = uvicorn.Config(
            self.asgi(port),
            log_config=None,  # our root handlers (with the redacting filter) get uvicorn's records
            access_log=False,  # request lines would carry ?token= from login links
            lifespan="on",
            ws="websockets-sansio",
            # Messages are small and encoded once for every client; per-client deflate would redo that
            # work for each socket on the event loop (the fan-out's main cost with 100 clients).
            ws_per_message_deflate=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=3,
        )
        self._server = uvicorn.Server(config)
        if announce:
            # Straight to stderr, never through logging: log files must not hold the token.
            sys.stderr.write(f"dashboard: {login_link(self.options.host, port, self.token)}\n")
            sys.stderr.flush()
        try:
            await self._server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits the process when startup fails; we report instead
            raise RuntimeError(f"the HTTP server failed to start (code {exc.code}); see the log above") from None
        finally:
            sock.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
