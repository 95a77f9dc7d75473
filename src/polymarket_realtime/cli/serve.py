"""``polymarket-realtime-mcp serve``: the MCP server over stdio.

Stdout is the JSON-RPC pipe, so logs go to stderr and to a rotating file in ``<data_dir>/logs``, both
through :class:`~polymarket_realtime.secrets.RedactingFilter`. ``--simulate`` starts the built-in
simulator in this process and points every endpoint at it (no network, no credentials needed).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..config import Settings
from ..errors import ConfigError
from .logging import configure_logging
from .simulated import simulated_settings

if TYPE_CHECKING:
    from ..http.host import HttpOptions

__all__ = ["add_arguments", "check_replay", "run", "serve"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="start the built-in Polymarket simulator in-process and use it for every endpoint (offline)",
    )
    parser.add_argument("--sim-seed", type=int, default=1, help="simulator seed (with --simulate)")
    parser.add_argument(
        "--replay", type=Path, default=None, metavar="FILE", help="serve a recording through the simulator (offline)"
    )
    parser.add_argument("--speed", default="1", help="replay speed: a multiplier (1 = real time) or 'max'")
    parser.add_argument("--log-file", type=Path, default=None, help="log file (default <data_dir>/logs/server.log)")
    http = parser.add_argument_group("control room (MCP over HTTP, dashboard, JSON API; see docs/http-api.md)")
    http.add_argument("--http", action="store_true", help="serve over HTTP instead of stdio")
    http.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    http.add_argument("--port", type=int, default=8787, help="HTTP port (default 8787; 0 = any free port)")
    http.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (every route but /health still needs the token)",
    )
    http.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name clients use to reach this server (repeatable; with --allow-remote)",
    )


async def serve(
    settings: Settings,
    *,
    simulate: bool = False,
    sim_seed: int = 1,
    replay: Path | None = None,
    speed: str = "1",
    http: HttpOptions | None = None,
) -> None:
    from ..server.app import create_server
    from ..simulator.polybolt import with_development_key

    async with contextlib.AsyncExitStack() as stack:
        if replay is not None:  # issue 6: a recording served over the simulator's real sockets
            from ..simulator.replay import parse_speed, replay_simulator

            sim = await stack.enter_async_context(replay_simulator(replay, speed=parse_speed(speed), seed=sim_seed))
            settings = simulated_settings(settings, with_development_key(sim.env(), dict(os.environ)))
            log.info("replaying %s at speed %s; endpoints: %s", replay, speed, settings.clob_url)
        elif simulate:
            from ..simulator import Simulator, SimulatorConfig

            sim = await stack.enter_async_context(Simulator(SimulatorConfig(seed=sim_seed)))
            # Offline, reference prices work without credentials of your own (a public development key).
            settings = simulated_settings(settings, with_development_key(sim.env(), dict(os.environ)))
            log.info("simulator running; endpoints: %s", settings.clob_url)
        server = create_server(settings)
        if http is not None:
            from ..http.host import ControlRoom

            log.info(
                "serving MCP over HTTP on %s:%s (toolsets: %s)",
                http.host,
                http.port,
                ",".join(sorted(settings.toolsets)),
            )
            await ControlRoom(server, settings, http).serve()
            return
        if settings.dashboard is not None:
            from .dashboard import serve_stdio_with_dashboard

            await serve_stdio_with_dashboard(server, settings)
            return
        log.info("serving MCP over stdio (toolsets: %s)", ",".join(sorted(settings.toolsets)))
        await server.run_stdio_async()


def check_replay(path: Path, speed: str) -> str | None:
    """One-line reason why ``serve --replay path --speed speed`` cannot start, or None.

    Reads only the recording's header: damage further on is reported when reached, and the valid
    prefix is still replayed.
    """
    from ..errors import ConfigError, RecordingError
    from ..recording.reader import read_header
    from ..simulator.replay import parse_speed

    try:
        parse_speed(speed)
        read_header(path)
    except (ConfigError, RecordingError) as exc:
        return str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    if args.replay is not None and (problem := check_replay(args.replay, args.speed)) is not None:
        raise ConfigError("serve --replay", problem)  # cli.main prints it on stderr and exits 2
    settings = Settings.from_env()
    try:  # an unusable data directory is a configuration error, not a crash deep in the lifespan
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            "POLYMARKET_MCP_DATA_DIR", f"cannot create {settings.data_dir}: {exc.strerror or exc}"
        ) from None
    http: HttpOptions | None = None
    if args.http:
        from ..http.host import HttpOptions, check_bind

        http = HttpOptions(args.host, args.port, args.allow_remote, list(args.allowed_host))
        check_bind(http)  # before anything starts: a refused address is a configuration error
    path = configure_logging(settings, args.log_file)
    log.info("polymarket-realtime-mcp serve starting (log file %s)", path)
    try:
        anyio.run(
            lambda: serve(
                settings,
                simulate=args.simulate,
                sim_seed=args.sim_seed,
                replay=args.replay,
                speed=args.speed,
                http=http,
            )
        )
    except KeyboardInterrupt:
        return 130
    return 0
