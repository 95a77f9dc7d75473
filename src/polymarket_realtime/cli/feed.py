"""``polymarket-realtime-mcp feed --redis redis://...``: the shared feed process.

Owns the upstream sockets (venue or simulator endpoints from the usual ``POLYMARKET_*`` settings) and
publishes normalized events to Redis Streams for every MCP server started with
``POLYMARKET_MCP_REDIS_URL`` pointing at the same Redis. Run two for high availability: one leads, the
other stands by and takes over within about ``--lock-ttl-s`` when the leader dies. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import signal
import sys

import anyio

from ..config import Settings
from ..errors import ConfigError
from ..redisbus.client import connect_redis
from ..redisbus.feedproc import FeedProcess
from ..redisbus.keys import DEFAULT_PREFIX
from ..redisbus.streams import safe_url
from ..secrets import Secret
from .logging import configure_logging
from .simulated import simulated_settings

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        metavar="URL",
        default=None,
        help="Redis URL (redis://, rediss:// or unix://); default: POLYMARKET_MCP_REDIS_URL",
    )
    parser.add_argument(
        "--prefix",
        default=None,
        help=f"key namespace (default POLYMARKET_MCP_REDIS_PREFIX, else {DEFAULT_PREFIX!r}); serve must use the same",
    )
    parser.add_argument("--lock-ttl-s", type=float, default=5.0, help="leader lock TTL = failover time (default 5)")
    parser.add_argument("--lease-poll-s", type=float, default=0.5, help="how often leases are re-read (default 0.5)")
    parser.add_argument(
        "--maxlen", type=int, default=10_000, help="approximate entries kept per token stream (default 10000)"
    )
    parser.add_argument("--simulate", action="store_true", help="feed from the built-in simulator (offline demo)")
    parser.add_argument("--sim-seed", type=int, default=1, help="simulator seed (with --simulate)")


_SCHEMES = ("redis://", "rediss://", "unix://")
_PREFIX = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")


def validate(args: argparse.Namespace, url: str) -> str | None:
    """The first invalid argument, as a message for the user (None when all are valid)."""
    if not url.startswith(_SCHEMES):
        return f"--redis: expected a redis://, rediss:// or unix:// URL, got {safe_url(url)!r}"
    if not (0.2 <= args.lock_ttl_s <= 600):
        return f"--lock-ttl-s: must be between 0.2 and 600 seconds, got {args.lock_ttl_s:g}"
    if not (0.01 <= args.lease_poll_s <= 60):
        return f"--lease-poll-s: must be between 0.01 and 60 seconds, got {args.lease_poll_s:g}"
    if not (100 <= args.maxlen <= 10_000_000):
        return f"--maxlen: must be between 100 and 10000000 entries, got {args.maxlen}"
    if not _PREFIX.match(args.prefix):
        return f"--prefix: up to 64 letters, digits or _ . : - (got {args.prefix!r})"
    return None


def run(args: argparse.Namespace) -> int:
    """Run the feed process; exit code 2 (message on stderr, no traceback) for invalid arguments."""
    settings = Settings.from_env()
    if args.prefix is None:
        args.prefix = settings.redis_prefix
    url = args.redis or (settings.redis_url.reveal() if settings.redis_url is not None else None)
    if not url:
        raise ConfigError("POLYMARKET_MCP_REDIS_URL", "set it or pass --redis redis://host:port/0")
    secret = Secret(url)  # registers the URL with the redactor: it may embed a password
    problem = validate(args, url)
    if problem is not None:
        sys.stderr.write(f"polymarket-realtime-mcp feed: error: {problem}\n")
        return 2
    configure_logging(settings, settings.log_dir / "feed.log")
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_main, settings, secret, args)
    return 0


async def _main(settings: Settings, url: Secret, args: argparse.Namespace) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if args.simulate:
            from ..simulator import Simulator, SimulatorConfig

            sim = await stack.enter_async_context(Simulator(SimulatorConfig(seed=args.sim_seed)))
            settings = simulated_settings(settings, sim.env())
        client = connect_redis(url.reveal())
        stack.push_async_callback(client.aclose)
        feed = FeedProcess(
            settings,
            client,
            prefix=args.prefix,
            lock_ttl_s=args.lock_ttl_s,
            lease_poll_s=args.lease_poll_s,
            maxlen_asset=args.maxlen,
        )
        log.info("feed process %s publishing to %s (prefix %r)", feed.token, safe_url(url.reveal()), args.prefix)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_on_signal, tg.cancel_scope)
            # Cancelled by SIGTERM/SIGINT: run() releases the leader lock, so the standby takes over at once.
            await feed.run()


async def _stop_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("feed process stopping (%s)", signal.Signals(signum).name)
            scope.cancel()
            return
