"""MCP over stdio: ``get_events`` calls per second and long-poll wake-up latency (issue 6).

Run: ``.venv/bin/python benchmarks/mcp_stdio.py [--quick]``.

The simulator runs in this process; the real server (``python -m polymarket_realtime serve``) is spawned
pointed at it, so the server process does only the server's work. Two clients drive it over stdio with the
legacy handshake (like Claude Desktop):

* a minimal raw JSON-RPC client (newline-delimited JSON on the pipes): measures the server plus the pipe,
  which is what any client pays;
* the SDK ``Client``: adds the Python client's own per-call cost (it re-validates every structured result
  against the tool's output schema with ``jsonschema``, most of its time), shown for comparison.

(a) calls/s: back-to-back ``get_events(wait_s=0)`` on a live subscription, one request in flight;
(b) wake-up latency: ``get_events(wait_s=5)`` parked on the server; for each event that arrived while the
    call was parked, the time from its receive stamp (``ts_recv``, taken when the frame came off the
    socket) to this process holding the parsed response. Same machine, same wall clock.

Targets: >= 500 calls/s; wake-up p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from polymarket_realtime.simulator import Simulator, SimulatorConfig


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class RawClient:
    """Just enough JSON-RPC over a child's stdio to call tools (one request in flight)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.next_id += 1
        wanted = self.next_id
        message = {"jsonrpc": "2.0", "id": wanted, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self.proc.stdin.drain()
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server closed stdout")
            reply = json.loads(line)
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    async def notify(self, method: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}).encode() + b"\n")
        await self.proc.stdin.drain()

    async def tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": name, "arguments": args})
        if result.get("isError"):
            raise RuntimeError(f"{name} failed: {result.get('content')}")
        structured: dict[str, Any] = result["structuredContent"]
        return structured


def server_env(sim: Simulator, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **sim.env(),
        "POLYMARKET_MCP_DATA_DIR": str(data_dir),
        "POLYMARKET_MCP_LOG_LEVEL": "WARNING",
        "POLYMARKET_MCP_TOOLSETS": "market,realtime",
    }


async def raw_benchmark(sim: Simulator, data_dir: Path, tokens: list[str], seconds: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "polymarket_realtime",
        "serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=server_env(sim, data_dir),
        limit=16 * 1024 * 1024,
    )
    client = RawClient(proc)
    try:
        await client.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        await client.notify("notifications/initialized")
        sub = await client.tool("subscribe_market_prices", {"token_ids": tokens})
        sid = sub["subscription_id"]
        await client.tool("get_events", {"subscription_id": sid, "wait_s": 5})

        calls, deadline = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            await client.tool("get_events", {"subscription_id": sid, "after_seq": 0, "limit": 10})
            calls += 1
        rate = calls / (time.perf_counter() - started)
        print(f"(a) raw JSON-RPC client: {rate:,.0f} get_events calls/s over stdio ({calls} calls; target >= 500)")

        cursor = (await client.tool("get_events", {"subscription_id": sid, "limit": 1000}))["next_seq"]
        wakeups: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            page = await client.tool("get_events", {"subscription_id": sid, "after_seq": cursor, "wait_s": 5})
            now_ns = time.time_ns()
            cursor = page["next_seq"]
            if page["events"]:
                # The first event of a page is the one that woke the parked call.
                wakeups.append((now_ns - page["events"][0]["ts_recv"]) / 1e6)
        if wakeups:
            print(
                f"(b) raw client long-poll wake-up: n={len(wakeups)} p50 {pct(wakeups, 0.5):.2f} ms, "
                f"p99 {pct(wakeups, 0.99):.2f} ms, max {max(wakeups):.2f} ms (target p99 <= 5 ms)"
            )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def sdk_benchmark(sim: Simulator, data_dir: Path, tokens: list[str], seconds: float) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "polymarket_realtime", "serve"], env=server_env(sim, data_dir)
    )
    async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
        result = await client.call_tool("subscribe_market_prices", {"token_ids": tokens})
        assert result.structured_content is not None
        sid = result.structured_content["subscription_id"]
        await client.call_tool("get_events", {"subscription_id": sid, "wait_s": 5})
        calls, deadline = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            await client.call_tool("get_events", {"subscription_id": sid, "limit": 10})
            calls += 1
        rate = calls / (time.perf_counter() - started)
        print(f"(a') SDK Client (re-validates each result with jsonschema): {rate:,.0f} calls/s")


async def main(seconds: float) -> None:
    config = SimulatorConfig(seed=5, markets=2, rate_per_s=300.0, resolve_after_s=None, new_market_every_s=None)
    async with Simulator(config) as sim:
        tokens = list(sim.model.active_markets()[0].token_ids)
        with tempfile.TemporaryDirectory() as tmp:
            await raw_benchmark(sim, Path(tmp) / "raw", tokens, seconds)
            await sdk_benchmark(sim, Path(tmp) / "sdk", tokens, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per measurement instead of 10 s")
    options = parser.parse_args()
    print("MCP over stdio (server spawned as a child; simulator in this process)")
    asyncio.run(main(3.0 if options.quick else 10.0))
