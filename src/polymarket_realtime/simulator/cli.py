"""``polymarket-realtime-mcp simulate``: run the simulator, or send one fault to a running one.

Running prints ``export POLYMARKET_...=...`` lines for every endpoint (eval-able in a shell) and serves
until interrupted. With ``--fault KIND --control-url URL`` it posts the fault and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

import httpx2

from .config import SimAccount, SimulatorConfig
from .faults import FAULT_KINDS
from .runtime import Simulator

__all__ = ["add_arguments", "run"]


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{raw} is not a port (0-65535; 0 = ephemeral)")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{raw} must be a positive integer")
    return value


def _non_negative(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{raw} must be a non-negative number")
    return value


def _positive(raw: str) -> float:
    value = _non_negative(raw)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{raw} must be a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--ws-port", type=_port, default=0, help="websocket port (default: ephemeral)")
    parser.add_argument("--rest-port", type=_port, default=0, help="REST port (default: ephemeral)")
    parser.add_argument("--sports-port", type=_port, default=0, help="sports socket port (default: ephemeral)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markets", type=_positive_int, default=8)
    parser.add_argument(
        "--v2-every", type=int, default=3, help="every Nth market is a Protocol V2 market (0 = none; default 3)"
    )
    parser.add_argument("--rate", type=_non_negative, default=50.0, help="market events per second")
    parser.add_argument("--sports-rate", type=_non_negative, default=2.0, help="sports game updates per second")
    parser.add_argument(
        "--sports-ping-interval", type=_positive, default=5.0, help="seconds between the sports server's pings"
    )
    parser.add_argument("--resolve-after", type=float, default=30.0, help="seconds until one market resolves")
    parser.add_argument("--account-every", type=float, default=5.0, help="seconds between user lifecycles")
    parser.add_argument("--fault", choices=FAULT_KINDS, help="send this fault to a running simulator and exit")
    parser.add_argument("--seconds", type=float, help="duration for refuse_connections / delay_initial_dump")
    parser.add_argument("--on", choices=("true", "false"), help="go_silent on or off")
    parser.add_argument("--control-url", help="REST URL of the running simulator (with --fault)")


def run(args: argparse.Namespace) -> int:
    if args.fault:
        return _send_fault(args)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    config = SimulatorConfig(
        seed=args.seed,
        markets=args.markets,
        v2_every=max(0, args.v2_every),
        rate_per_s=args.rate,
        resolve_after_s=args.resolve_after,
        account=SimAccount(lifecycle_every_s=args.account_every),
        host=args.host,
        ws_port=args.ws_port,
        rest_port=args.rest_port,
        sports_port=args.sports_port,
        sports_rate_per_s=args.sports_rate,
        sports_ping_interval_s=args.sports_ping_interval,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config))
    return 0


async def _serve(config: SimulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with Simulator(config) as sim:
        for name, value in sim.env().items():
            print(f"export {name}={value}")
        print(f"# control API: {sim.rest_url}/_sim/state ; stop with Ctrl-C", flush=True)
        await stop.wait()


def _send_fault(args: argparse.Namespace) -> int:
    if not args.control_url:
        print("--fault needs --control-url (the simulator's REST URL)", file=sys.stderr)
        return 2
    body: dict[str, object] = {"kind": args.fault}
    if args.seconds is not None:
        body["seconds"] = args.seconds
    if args.on is not None:
        body["on"] = args.on == "true"
    try:
        response = httpx2.post(args.control_url.rstrip("/") + "/_sim/fault", content=json.dumps(body), timeout=10.0)
    except httpx2.HTTPError as exc:
        print(f"could not reach the simulator: {exc}", file=sys.stderr)
        return 1
    print(response.text)
    return 0 if response.status_code == 200 else 1
