"""``POLYMARKET_MCP_DASHBOARD``: the control room beside the stdio server, in the same process.

The HTTP side starts first and owns the services (the MCP lifespan); stdio then shares them, so the
dashboard shows exactly the sessions and agents Claude Desktop drives. If the address cannot be bound
the error is logged and stdio serves alone: the model's connection matters more than the dashboard.
When stdio ends (the client quit), the HTTP side stops too.
"""

from __future__ import annotations

import logging

import anyio

from ..config import Settings
from ..errors import ConfigError
from ..http.host import ControlRoom, bind_socket, check_bind, parse_dashboard
from ..server.app import PolymarketMCP

__all__ = ["serve_stdio_with_dashboard"]

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 60.0


async def serve_stdio_with_dashboard(server: PolymarketMCP, settings: Settings) -> None:
    assert settings.dashboard is not None
    options = parse_dashboard(settings.dashboard)
    options.allow_remote = settings.dashboard_allow_remote
    try:
        check_bind(options)
        sock = bind_socket(options.host, options.port)
    except (ConfigError, OSError) as exc:
        log.error("dashboard not started (POLYMARKET_MCP_DASHBOARD=%s): %s", settings.dashboard, exc)
        await server.run_stdio_async()
        return
    room = ControlRoom(server, settings, options)
    async with anyio.create_task_group() as tg:

        async def http_side() -> None:
            try:
                await room.serve(sock)
            except Exception:
                log.exception("the dashboard stopped")

        tg.start_soon(http_side)
        with anyio.move_on_after(STARTUP_TIMEOUT_S):
            await room.ready.wait()
        log.info("serving MCP over stdio with the dashboard on %s:%s", options.host, sock.getsockname()[1])
        try:
            await server.run_stdio_async()
        finally:
            room.stop()
