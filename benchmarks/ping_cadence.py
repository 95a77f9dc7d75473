"""Keepalive cadence on real sockets (issue 11: with a 5 s interval the first PING went out after 7.3 s).

Run: ``.venv/bin/python benchmarks/ping_cadence.py [--interval 0.5] [--pings 10]``. Opens a market and an
RTDS socket against the in-process simulator with the real clock and reports, per channel, how late each
PING reached the simulator relative to its due time ``opened + k * interval`` (milliseconds). The pong
timeout is 3 intervals, the production ratio (10 s / 30 s), which is what made the old fixed-step loop
(step = pong timeout / 4) send the first PING at 1.5 intervals.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket.rest import ClobRestClient


async def measure(interval: float, pings: int, pong_timeout: float) -> dict[str, list[float]]:
    config = SimulatorConfig(seed=1, markets=2, rate_per_s=20.0, rtds_rate_per_s=5.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        settings = Settings(
            clob_ws_url=sim.ws_url,
            rtds_ws_url=sim.rtds_url,
            clob_url=sim.rest_url,
            gamma_url=sim.rest_url,
            data_dir=Path(tempfile.mkdtemp()),
            ping_interval_s=interval,
            rtds_ping_interval_s=interval,
            pong_timeout_s=pong_timeout,
            market_idle_timeout_s=60.0,
            rtds_idle_timeout_s=60.0,
        )
        books = BookStore()
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=EventRouter(books), clob_rest=rest) as manager,
        ):
            await manager.subscribe_assets([sim.model.markets[0].token_ids[0]])
            await manager.subscribe_rtds("crypto_prices", "update")
            paths = {"market": "/ws/market", "rtds": "/"}
            await sim.wait_until(
                lambda: all(o and len(o[0].pings) >= pings for o in (sim.observed.on(p) for p in paths.values())),
                timeout=pings * interval + 10,
            )
            late: dict[str, list[float]] = {}
            for channel, path in paths.items():
                conn = next(c for c in manager.connections() if c.spec.channel == channel)
                opened = conn.opened_at_monotonic
                assert opened is not None
                seen = sim.observed.on(path)[0].pings[:pings]
                late[channel] = [(t - (opened + (k + 1) * interval)) * 1000 for k, t in enumerate(seen)]
            return late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--pings", type=int, default=10)
    parser.add_argument("--pong-timeout", type=float, help="default: 3 intervals")
    args = parser.parse_args()
    pong_timeout = args.pong_timeout or 3 * args.interval
    started = time.perf_counter()
    late = anyio.run(measure, args.interval, args.pings, pong_timeout)
    took = time.perf_counter() - started
    print(f"ping interval {args.interval:g}s, pong timeout {pong_timeout:g}s, {args.pings} pings/channel ({took:.1f}s)")
    for channel, values in late.items():
        print(
            f"  {channel:7s} lateness ms: first {values[0]:.2f}  median {statistics.median(values):.2f}  "
            f"max {max(values):.2f}  min {min(values):.2f}"
        )


if __name__ == "__main__":
    main()
