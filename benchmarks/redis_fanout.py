"""Events per second through Redis Streams to 1 and 10 consuming servers (shared-feed mode).

Starts a private ``redis-server`` (loopback, free port, no persistence), then for each consumer count:
spawns that many consumer processes (each a ``RedisFeedBackend`` with its own BookStore and EventRouter,
exactly what ``serve`` runs with ``POLYMARKET_MCP_REDIS_URL``), waits until all have joined, publishes
N ``price_change`` events over 10 tokens with the feed process's ``Publisher`` (batched Lua ``XADD``
calls) and measures when each consumer has applied and routed the last one.

Reported: publish rate (events/s written to Redis), per-consumer delivery rate (N / time from the first
publish to that consumer's last event), aggregate fan-out rate (sum over consumers), and the slowest
consumer. Every process shares this machine's cores, so 10 consumers measure contention too.

Run: ``.venv/bin/python benchmarks/redis_fanout.py [--quick]`` (skips, exit 0, without redis-server).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import anyio
import redis.asyncio as aioredis

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.events import BookSnapshot, Event, Level, LevelChange, PriceChange
from polymarket_realtime.redisbus.consumer import RedisFeedBackend
from polymarket_realtime.redisbus.keys import Keys
from polymarket_realtime.redisbus.publisher import Publisher
from polymarket_realtime.routing.eventlog import EventLog, LogEntry
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret

TOKENS = [str(10**70 + i) for i in range(10)]
MARKET = "0x" + "cd" * 32


def events(n: int) -> list[Event]:
    out: list[Event] = []
    for i in range(n):
        token = TOKENS[i % len(TOKENS)]
        price = Decimal(400 + i % 50) / 1000
        change = LevelChange("BUY", price, Decimal(1 + i % 97))
        out.append(PriceChange(asset_id=token, market=MARKET, changes=(change,), ts_event_ms=i, ts_recv_ns=i))
    return out


def snapshots() -> list[Event]:
    return [
        BookSnapshot(
            asset_id=t,
            market=MARKET,
            bids=(Level(Decimal("0.39"), Decimal(10)),),
            asks=(Level(Decimal("0.61"), Decimal(10)),),
        )
        for t in TOKENS
    ]


# --- consumer process ---------------------------------------------------------------------------


async def consumer_main(url: str, prefix: str, expect: int) -> None:
    books = BookStore()
    router = EventRouter(books)
    done = anyio.Event()
    finished_at = 0.0

    def on_event(sub: Subscription, entry: LogEntry) -> None:
        nonlocal finished_at
        if entry.seq >= expect:
            finished_at = time.time()
            done.set()

    router.add(
        Subscription(
            "bench",
            "bench",
            frozenset(TOKENS),
            frozenset(),
            frozenset({"price_change"}),
            log=EventLog(1000),
            on_event=on_event,
        )
    )
    settings = Settings(redis_url=Secret(url))
    async with RedisFeedBackend(settings, books=books, router=router, prefix=prefix, block_ms=50) as backend:
        await backend.subscribe_assets(TOKENS)
        await backend.wait_joined()
        print("ready", flush=True)
        with anyio.fail_after(300):
            await done.wait()
    print(json.dumps({"finished_at": finished_at, "orphans": books.orphan_updates}), flush=True)


# --- driver ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    assert binary is not None
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*args, "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def run_case(url: str, consumers: int, n: int) -> dict[str, float]:
    prefix = f"bench{consumers}:"
    client = aioredis.Redis.from_url(url)
    publisher = Publisher(client, Keys(prefix), batch_size=500)
    await publisher.publish(snapshots())
    cmd = [sys.executable, __file__, "--consumer", url, prefix, str(n)]
    procs = [await anyio.open_process(cmd, stderr=subprocess.DEVNULL) for _ in range(consumers)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            with anyio.fail_after(60):
                line = await proc.stdout.receive()
            assert b"ready" in line, line
        batch = events(n)
        started = time.time()
        await publisher.publish(batch)
        published = time.time()
        finished: list[float] = []
        for proc in procs:
            assert proc.stdout is not None
            with anyio.fail_after(300):
                data = b""
                while b"finished_at" not in data:
                    data += await proc.stdout.receive()
            finished.append(json.loads(data.decode().strip().splitlines()[-1])["finished_at"])
            await proc.wait()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await client.aclose()
    per = [n / (t - started) for t in finished]
    return {
        "consumers": consumers,
        "events": n,
        "publish_eps": n / (published - started),
        "per_consumer_eps_min": min(per),
        "per_consumer_eps_mean": sum(per) / len(per),
        "aggregate_eps": sum(per),
        "slowest_s": max(finished) - started,
    }


async def driver(quick: bool) -> int:
    if shutil.which("redis-server") is None:
        print("redis-server not installed (make redis-server); skipped")
        return 0
    n = 5_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            print(f"{n} price_change events over {len(TOKENS)} tokens, Publisher batches of 500, XREAD COUNT 1000")
            header = ("consumers", "publish ev/s", "per-consumer ev/s (min/mean)", "aggregate ev/s", "slowest s")
            print("{:>9} {:>13} {:>29} {:>15} {:>10}".format(*header))
            for consumers in (1, 10):
                r = await run_case(url, consumers, n)
                print(
                    f"{consumers:>9} {r['publish_eps']:>13,.0f} "
                    f"{r['per_consumer_eps_min']:>14,.0f} / {r['per_consumer_eps_mean']:>12,.0f} "
                    f"{r['aggregate_eps']:>15,.0f} {r['slowest_s']:>10.2f}"
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5k events instead of 20k")
    parser.add_argument("--consumer", nargs=3, metavar=("URL", "PREFIX", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer:
        url, prefix, count = args.consumer
        anyio.run(consumer_main, url, prefix, int(count))
        return 0
    return anyio.run(driver, args.quick)


if __name__ == "__main__":
    sys.exit(main())
