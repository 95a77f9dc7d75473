"""MCP over stdio: ``get_events`` calls per second and long-poll wake-up latency (issue 6).

Run: ``.venv/bin/python benchmarks/mcp_stdio.py [--quick]``.

Spawns the real server (``python -m polymarket_realtime serve --simulate``) and drives it with the SDK
``Client`` over stdio (legacy handshake, like Claude Desktop):

(a) calls/s: back-to-back ``get_events(wait_s=0)`` on a live subscription (each a full JSON-RPC round
    trip: request, tool dispatch, structured result, response);
(b) wake-up latency: ``get_events(wait_s=5)`` parked on the server; for every event that arrived while
    the call was parked, the time from its local receive stamp (``ts_recv``, taken when the frame came
    off the socket) to the client holding the result. Same machine, same wall clock.

Targets: >= 500 calls/s; wake-up p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{name} failed: {result.content}")
    return dict(result.structured_content)


async def run(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "polymarket_realtime", "serve", "--simulate"],
            env={
                **os.environ,
                "POLYMARKET_MCP_DATA_DIR": str(Path(tmp) / "data"),
                "POLYMARKET_MCP_LOG_LEVEL": "WARNING",
                "POLYMARKET_MCP_TOOLSETS": "market,realtime",
            },
            cwd=tmp,
        )
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            found = await call(client, "search_markets", {"query": "will", "limit": 1})
            market = await call(client, "get_market", {"market": found["markets"][0]["slug"]})
            tokens = [o["token_id"] for o in market["outcomes"]]
            sub = await call(client, "subscribe_market_prices", {"token_ids": tokens})
            sid = sub["subscription_id"]
            cursor = (await call(client, "get_events", {"subscription_id": sid, "wait_s": 5}))["next_seq"]

            calls = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                page = await call(client, "get_events", {"subscription_id": sid, "after_seq": cursor, "wait_s": 0})
                cursor = page["next_seq"]
                calls += 1
            elapsed = time.perf_counter() - t0
            print(f"(a) get_events(wait_s=0) over stdio: {calls / elapsed:,.0f} calls/s ({calls} calls)")

            latencies: list[float] = []
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                sent_ns = time.time_ns()
                page = await call(client, "get_events", {"subscription_id": sid, "after_seq": cursor, "wait_s": 5})
                got_ns = time.time_ns()
                cursor = page["next_seq"]
                for event in page["events"]:
                    if event["ts_recv"] > sent_ns:  # arrived while the call was parked on the server
                        latencies.append((got_ns - event["ts_recv"]) / 1e6)
                        break  # the first one woke the call; later ones in the same page came along
            if latencies:
                print(
                    f"(b) long-poll wake-up, event receive -> client has it: n={len(latencies)} "
                    f"p50 {statistics.median(latencies):.2f} ms  p99 {pct(latencies, 0.99):.2f} ms  "
                    f"max {max(latencies):.2f} ms"
                )
            else:
                print("(b) no wake-ups measured (no events arrived while parked)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    anyio.run(run, 3.0 if args.quick else 10.0)


if __name__ == "__main__":
    main()
