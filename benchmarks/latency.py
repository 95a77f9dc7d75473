"""Latency from the venue's send time to the event being readable with ``get_events`` (issue 6).

Run: ``.venv/bin/python benchmarks/latency.py [--quick]``.

A child process (``ingest.REPLAY_CODE``) serves realistic market frames over a loopback websocket at a
fixed rate and writes its send time, in microseconds, where the venue puts the event timestamp. Our full
MCP server runs in this process (``create_server``; feed, books, router, tools) and is driven by the SDK
``Client`` over the in-memory transport: one ``subscribe_market_prices`` on every token, then
``get_events(wait_s=2)`` long-polls back to back. Latency per event = the moment the client holds the
result minus the send stamp, so it includes socket, parse, book, routing, the wait for the next call
and the MCP round trip. Reported at a moderate rate (200 frames/s), at 2,000 frames/s and near
saturation; p50/p99/p99.9. Saturation was measured by stepping the rate (``--rates 2500,3000,...``): this
in-process setup (client, server and feed on one event loop, one core) keeps up to about 4,000 frames/s
(~7,100 events/s received); at 4,500-5,000 frames/s it falls behind (7,700-7,900 events/s received,
latency growing with the backlog). The default near-saturation rate is therefore 4,000 frames/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from mcp import Client  # noqa: E402

from ingest import REPLAY_CODE, Child, pct  # noqa: E402
from polymarket_realtime.config import Settings  # noqa: E402
from polymarket_realtime.server.app import create_server  # noqa: E402


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{name} failed: {result.content}")
    return dict(result.structured_content)


async def one_rate(rate: float, seconds: float, markets: int) -> None:
    child = Child(REPLAY_CODE, str(HERE), str(rate), str(markets))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                clob_ws_url=child.info["ws"],
                snapshot_fallback_s=3600.0,
                data_dir=Path(tmp),
                toolsets=frozenset({"market", "realtime"}),
                event_buffer_size=10_000,
            )
            server = create_server(settings, extensions=[])
            async with Client(server, read_timeout_seconds=30) as client:
                tokens: list[str] = child.info["tokens"]
                sub = await call(client, "subscribe_market_prices", {"token_ids": tokens})
                sid = sub["subscription_id"]
                cursor = 0
                # Wait for the initial dump to land, then start the flow.
                page = await call(client, "get_events", {"subscription_id": sid, "wait_s": 5})
                cursor = page["next_seq"]
                gc.collect()
                child.send("go")
                latencies: list[float] = []
                received = 0
                start = time.perf_counter()
                warm = start + 1.0
                while time.perf_counter() - start < seconds + 1.0:
                    page = await call(
                        client,
                        "get_events",
                        {"subscription_id": sid, "after_seq": cursor, "wait_s": 2, "limit": 1000},
                    )
                    now_us = time.time_ns() / 1000
                    cursor = page["next_seq"]
                    if time.perf_counter() < warm:
                        continue
                    received += len(page["events"])
                    latencies.extend(now_us - e["ts_event"] for e in page["events"] if e["ts_event"] > 1e15)
                elapsed = time.perf_counter() - warm
            if latencies:
                ms = [v / 1000 for v in latencies]
                print(
                    f"  rate {rate:>7,.0f}/s: received {received / elapsed:>8,.0f} ev/s  "
                    f"p50 {statistics.median(ms):7.2f} ms  p99 {pct(ms, 99):7.2f} ms  p99.9 {pct(ms, 99.9):7.2f} ms"
                )
            else:
                print(f"  rate {rate:>7,.0f}/s: no events measured")
    finally:
        child.close()


def main() -> None:
    # The synthetic traffic crosses books now and then; the warnings are expected noise here.
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--rates", default="200,2000,4000", help="comma-separated frames/s (moderate, busy, near saturation)"
    )
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    print("latency: venue send -> readable with get_events (in-process MCP Client, full server)")
    for rate in (float(r) for r in args.rates.split(",")):
        asyncio.run(one_rate(rate, seconds, markets=20))


if __name__ == "__main__":
    main()
