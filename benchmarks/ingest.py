"""Feed ingest benchmark: throughput, end-to-end latency and memory (issue 2 targets).

Run: ``.venv/bin/python benchmarks/ingest.py`` (``--quick`` for a shorter run). Prints three parts:

(a) in-process pipeline: pre-generated realistic market frames (book snapshots of 20-100 levels a side,
    price_change bursts naming both tokens, trades, best_bid_ask) through
    parse_market_frame -> BookStore.apply -> EventRouter.route into EventLogs, with 1, 100 and 1,000
    subscriptions, on one core. Target >= 40,000 msg/s (messages = wire events).
(b) end to end over loopback websockets: a child process serves ``/ws/market`` (initial dump of books,
    then the same realistic frames at a fixed rate, PING/PONG) and writes its send time in *microseconds*
    into each frame's ``timestamp`` (parsed unchanged as an opaque integer); the client (the real
    WebSocketManager) measures the time until the event is appended to an EventLog. p50/p99/p99.9 at
    2,000 and 20,000 frames/s, with and without ``gc.freeze()`` after the initial books. Targets p99 <=
    1 ms and <= 3 ms. (The simulator's own model cannot generate 20,000 msg/s in Python, so the frames are
    pre-generated.) Plus reconnect against the real simulator in a child process: time from a dropped
    socket to the first fresh event (target <= backoff base + 0.5 s).
(c) memory: RSS of a fresh process holding 1,000 tokens with full books and one subscription each, and
    bytes per buffered event (target <= 60 MB and <= 1 KB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from polymarket_realtime.config import Settings  # noqa: E402
from polymarket_realtime.feed import manager as feed_manager  # noqa: E402
from polymarket_realtime.feed.books import BookStore  # noqa: E402
from polymarket_realtime.feed.manager import WebSocketManager  # noqa: E402
from polymarket_realtime.routing.eventlog import EventLog, LogEntry  # noqa: E402
from polymarket_realtime.routing.router import EventRouter, Subscription  # noqa: E402
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame  # noqa: E402
from polymarket_realtime.venues.polymarket.rest import ClobRestClient  # noqa: E402

PRICE_EVENTS = frozenset({"price_change", "last_trade_price", "best_bid_ask", "tick_size_change"})
ALL_MARKET = frozenset({"book", *PRICE_EVENTS})


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- realistic frames ------------------------------------------------------------------------------


class Market:
    def __init__(self, rng: random.Random, max_depth: int = 100) -> None:
        self.condition = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(64))
        self.tokens = (str(rng.getrandbits(255)), str(rng.getrandbits(255)))
        mid = rng.randrange(10, 90)
        depth = rng.randrange(min(20, max_depth // 2), max_depth + 1)
        self.bids = {mid - 1 - i: rng.randrange(1, 50_000) for i in range(min(depth, mid - 1))}
        self.asks = {mid + 1 + i: rng.randrange(1, 50_000) for i in range(min(depth, 98 - mid))}


def _px(units: int) -> str:
    return f"0.{units:02d}"


def book_frame(m: Market, token: int, ts: int) -> dict[str, Any]:
    bids = m.bids if token == 0 else {100 - p: s for p, s in m.asks.items()}
    asks = m.asks if token == 0 else {100 - p: s for p, s in m.bids.items()}
    return {
        "event_type": "book",
        "asset_id": m.tokens[token],
        "market": m.condition,
        # Venue order: bids ascending, asks descending (best last).
        "bids": [{"price": _px(p), "size": f"{s}.25"} for p, s in sorted(bids.items())],
        "asks": [{"price": _px(p), "size": f"{s}.5"} for p, s in sorted(asks.items(), reverse=True)],
        "timestamp": str(ts),
        "hash": "9e4f2ff8ba2be56177e8bdc8623dfaba4d18f5c8",
        "tick_size": "0.01",
        "last_trade_price": "0.50",
    }


def make_frames(markets: list[Market], n: int, rng: random.Random) -> list[bytes]:
    """``n`` frames of mixed traffic: 2% snapshots, 78% price_change, 12% trades, 8% best_bid_ask."""
    frames: list[bytes] = []
    ts = 1_790_908_667_676
    for _ in range(n):
        ts += 1
        m = markets[rng.randrange(len(markets))]
        roll = rng.random()
        if roll < 0.02:
            obj: Any = book_frame(m, rng.randrange(2), ts)
        elif roll < 0.80:
            side_bid = rng.random() < 0.5
            book = m.bids if side_bid else m.asks
            price = rng.choice(list(book)) if book and rng.random() < 0.7 else rng.randrange(1, 99)
            if (side_bid and m.asks and price >= min(m.asks)) or (not side_bid and m.bids and price <= max(m.bids)):
                price = max(m.bids) if side_bid and m.bids else (min(m.asks) if m.asks else 50)
            size = 0 if rng.random() < 0.2 else rng.randrange(1, 50_000)
            if size:
                book[price] = size
            else:
                book.pop(price, None)
            bb = _px(max(m.bids)) if m.bids else ""
            ba = _px(min(m.asks)) if m.asks else ""
            obj = {
                "event_type": "price_change",
                "market": m.condition,
                "price_changes": [
                    {
                        "asset_id": m.tokens[0],
                        "price": _px(price),
                        "size": str(size),
                        "side": "BUY" if side_bid else "SELL",
                        "hash": "56621a121a47ed9333273e21c83b660cff37ae50",
                        "best_bid": bb,
                        "best_ask": ba,
                    },
                    {
                        "asset_id": m.tokens[1],
                        "price": _px(100 - price),
                        "size": str(size),
                        "side": "SELL" if side_bid else "BUY",
                        "hash": "1895759e4df7a796bf4f1c5a5950b748306923e2",
                        "best_bid": _px(100 - min(m.asks)) if m.asks else "",
                        "best_ask": _px(100 - max(m.bids)) if m.bids else "",
                    },
                ],
                "timestamp": str(ts),
            }
        elif roll < 0.92:
            obj = {
                "event_type": "last_trade_price",
                "asset_id": m.tokens[rng.randrange(2)],
                "market": m.condition,
                "price": _px(rng.randrange(1, 99)),
                "size": f"{rng.randrange(1, 5000)}.123456",
                "fee_rate_bps": "0",
                "side": "BUY",
                "timestamp": str(ts),
            }
        else:
            obj = {
                "event_type": "best_bid_ask",
                "market": m.condition,
                "asset_id": m.tokens[0],
                "best_bid": _px(max(m.bids)) if m.bids else "",
                "best_ask": _px(min(m.asks)) if m.asks else "",
                "spread": "0.02",
                "timestamp": str(ts),
            }
        frames.append(json.dumps(obj, separators=(",", ":")).encode())
    return frames


def build_pipeline(markets: list[Market], subs: int) -> tuple[WebSocketManager, Any, list[EventLog]]:
    settings = Settings()
    books = BookStore()
    router = EventRouter(books)
    manager = WebSocketManager(settings, books=books, router=router, clob_rest=ClobRestClient(settings))
    tokens = [t for m in markets for t in m.tokens]
    manager._asset_refs.acquire(tokens)
    logs = []
    for i in range(subs):
        log = EventLog(settings.event_buffer_size)
        token = tokens[i % len(tokens)]
        # Every tenth subscription is an order-book subscription with a depth-10 view.
        depth = 10 if i % 10 == 9 else 0
        router.add(Subscription(f"s{i}", "bench", frozenset({token}), frozenset(), ALL_MARKET, depth=depth, log=log))
        logs.append(log)
    conn = SimpleNamespace(spec=SimpleNamespace(channel="market"), connection_id="market-0", stopped=False)
    manager._repair.resyncing = True  # no event loop here: never spawn the REST resync of a crossed book
    return manager, conn, logs


def bench_pipeline(quick: bool) -> None:
    print("(a) in-process pipeline: parse + BookStore.apply + EventRouter.route into EventLogs")
    print("    (CPU time of this process: the machine is shared, wall time would count other processes)")
    rng = random.Random(42)
    markets = [Market(rng) for _ in range(100)]
    snapshots = json.dumps([book_frame(m, t, 1) for m in markets for t in (0, 1)]).encode()
    frames = make_frames(markets, 40_000 if quick else 150_000, rng)
    for subs in (1, 100, 1000):
        manager, conn, _logs = build_pipeline(markets, subs)
        on_frame = manager._on_frame
        on_frame(conn, parse_market_frame(snapshots, 1), 1)
        gc.collect()
        gc.freeze()
        start_events = manager.stats.total_events
        t0 = time.process_time()
        for raw in frames:
            ts = time.time_ns()
            on_frame(conn, parse_market_frame(raw, ts), ts)
        elapsed = time.process_time() - t0
        gc.unfreeze()
        events = manager.stats.total_events - start_events
        delivered = sum(s.log.delivered for s in manager.router.list())
        print(
            f"    subs={subs:>5}: {len(frames) / elapsed:>9,.0f} frames/s  {events / elapsed:>9,.0f} msg/s "
            f"({events:,} events, {delivered:,} log appends)"
        )
    # Where the time goes (100 subscriptions).
    manager, conn, _logs = build_pipeline(markets, 100)
    manager._on_frame(conn, parse_market_frame(snapshots, 1), 1)
    t0 = time.process_time()
    parsed = [parse_market_frame(raw, 1) for raw in frames]
    t_parse = time.process_time() - t0
    n = sum(len(p.events) for p in parsed)
    apply, route = manager.books.apply, manager.router.route
    t0 = time.process_time()
    for p in parsed:
        for e in p.events:
            apply(e)
    t_apply = time.process_time() - t0
    t0 = time.process_time()
    for p in parsed:
        for e in p.events:
            route(e)
    t_route = time.process_time() - t0
    manager2, conn2, _ = build_pipeline(markets, 100)
    manager2._on_frame(conn2, parse_market_frame(snapshots, 1), 1)
    t0 = time.process_time()
    for p in parsed:
        manager2._on_frame(conn2, p, 1)
    t_total = time.process_time() - t0
    print(
        f"    per event (100 subs): parse {t_parse / n * 1e6:.1f} us, BookStore.apply {t_apply / n * 1e6:.1f} us, "
        f"route+log {t_route / n * 1e6:.1f} us, manager overhead {(t_total - t_apply - t_route) / n * 1e6:.1f} us"
    )


# --- end to end ------------------------------------------------------------------------------------


REPLAY_CODE = r"""
import asyncio, json, random, sys, time
sys.path.insert(0, sys.argv[1])
from ingest import Market, book_frame, make_frames
from websockets.asyncio.server import serve

rate, markets_n = float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(9)
markets = [Market(rng, 30) for _ in range(markets_n)]
books = {t: book_frame(m, i, 1) for m in markets for i, t in enumerate(m.tokens)}
# Split each frame at its timestamp so the send time (microseconds) is spliced in at send time.
templates = []
for raw in make_frames(markets, 50_000, rng):
    text = raw.decode()
    head, _, rest = text.rpartition('"timestamp":"')
    templates.append((head + '"timestamp":"', rest[rest.index('"'):]))
running = asyncio.Event()
clients = []

async def handler(ws):
    first = json.loads(await ws.recv())
    await ws.send(json.dumps([books[t] for t in first["assets_ids"] if t in books]))
    clients.append(ws)
    try:
        async for message in ws:
            if message == "PING":
                await ws.send("PONG")
    finally:
        clients.remove(ws)

async def pump():
    i, sent = 0, 0
    await running.wait()
    start = time.perf_counter()
    while True:
        due = int((time.perf_counter() - start) * rate) - sent
        for _ in range(due):
            head, tail = templates[i % len(templates)]
            i += 1
            frame = head + str(time.time_ns() // 1000) + tail
            for ws in clients:
                await ws.send(frame)
        sent += max(due, 0)
        await asyncio.sleep(0.0005)

async def main():
    async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"ws": f"ws://127.0.0.1:{port}/ws",
                          "tokens": list(books)}), flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        def control():
            for line in sys.stdin:
                if line.strip() == "go":
                    loop.call_soon_threadsafe(running.set)
            loop.call_soon_threadsafe(stop.set)
        loop.run_in_executor(None, control)
        task = asyncio.create_task(pump())
        await stop.wait()
        task.cancel()

asyncio.run(main())
"""

SERVE_CODE = r"""
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
import polymarket_realtime.simulator.runtime as runtime
runtime._now_ms = lambda: time.time_ns() // 1000   # microseconds, for latency measurement only
from polymarket_realtime.simulator import Simulator, SimulatorConfig

async def main():
    rate, markets = float(sys.argv[2]), int(sys.argv[3])
    cfg = SimulatorConfig(seed=9, markets=markets, rate_per_s=rate, resolve_after_s=None, rtds_rate_per_s=0,
                          book_depth=30)
    async with Simulator(cfg) as sim:
        sim.pause()
        print(json.dumps({"ws": sim.ws_url, "rest": sim.rest_url,
                          "tokens": [t for m in sim.model.markets for t in m.token_ids]}), flush=True)
        loop = asyncio.get_running_loop()
        def control():
            for line in sys.stdin:
                cmd = line.split()
                if cmd[0] == "go":
                    loop.call_soon_threadsafe(sim.resume)
                elif cmd[0] == "drop":
                    loop.call_soon_threadsafe(sim.faults.drop_all)
            loop.call_soon_threadsafe(stop.set)
        stop = asyncio.Event()
        loop.run_in_executor(None, control)
        await stop.wait()

asyncio.run(main())
"""


class Child:
    """A child process serving websockets; prints its endpoints as one JSON line, reads commands on stdin."""

    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def until(predicate: Any, step: float = 0.002) -> None:
    while not predicate():  # noqa: ASYNC110  # benchmark only: polling leaves the measured code untouched
        await asyncio.sleep(step)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def e2e_run(rate: float, freeze: bool, seconds: float, markets: int) -> None:
    # The manager freezes the GC once a connection's books are loaded (FREEZE_GC_AFTER_SNAPSHOTS);
    # switch that off for the "no" runs to show its effect.
    feed_manager.FREEZE_GC_AFTER_SNAPSHOTS = freeze
    gc.unfreeze()
    gc.collect()
    child = Child(REPLAY_CODE, str(Path(__file__).parent), str(rate), str(markets))
    try:
        # No REST behind the replayer: the fallback never fires because every book comes in the dump.
        settings = Settings(clob_ws_url=child.info["ws"], snapshot_fallback_s=3600.0)
        books = BookStore()
        router = EventRouter(books)
        latencies: list[float] = []
        in_process: list[float] = []
        measuring = False

        def measure(sub: Subscription, entry: LogEntry) -> None:
            if measuring:
                now_ns = time.time_ns()
                # The replayer put its send time, in microseconds, where the venue puts its timestamp.
                latencies.append(now_ns / 1000 - entry.event.ts_event_ms)
                # Issue 2's definition: from our receipt of the frame to the event being readable.
                in_process.append((now_ns - entry.event.ts_recv_ns) / 1000)

        tokens: list[str] = child.info["tokens"]
        for i, token in enumerate(tokens):
            router.add(
                Subscription(
                    f"s{i}", "bench", frozenset({token}), frozenset(), ALL_MARKET, log=EventLog(1000), on_event=measure
                )
            )
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(3)) as manager,
        ):
            await manager.subscribe_assets(tokens)
            await until(lambda: len(books) >= len(tokens))
            child.send("go")
            await asyncio.sleep(1.0)  # warm-up
            measuring = True
            ev0, fr0, t0, c0 = (
                manager.stats.total_events,
                manager.stats.frames,
                time.perf_counter(),
                time.process_time(),
            )
            await asyncio.sleep(seconds)
            measuring = False
            ev1, fr1, t1, c1 = (
                manager.stats.total_events,
                manager.stats.frames,
                time.perf_counter(),
                time.process_time(),
            )
            if freeze:
                gc.unfreeze()
            print(
                f"    {rate:>7,.0f} frames/s sent: received {(fr1 - fr0) / (t1 - t0):>7,.0f} frames/s = "
                f"{(ev1 - ev0) / (t1 - t0):>7,.0f} events/s, gc.freeze={'yes' if freeze else 'no '}: "
                f"p50 {pct(latencies, 50) / 1000:.3f} ms  p99 {pct(latencies, 99) / 1000:.3f} ms  "
                f"p99.9 {pct(latencies, 99.9) / 1000:.3f} ms  (n={len(latencies):,}); client CPU "
                f"{(c1 - c0) / (t1 - t0):.0%} of a core, {(c1 - c0) / max(1, fr1 - fr0) * 1e6:.1f} us per frame\n"
                f"      {'':>7}   frame receipt -> readable: p50 {pct(in_process, 50) / 1000:.3f} ms  "
                f"p99 {pct(in_process, 99) / 1000:.3f} ms  p99.9 {pct(in_process, 99.9) / 1000:.3f} ms"
            )
    finally:
        child.close()


async def reconnect_run(trials: int) -> None:
    sim = Child(SERVE_CODE, str(ROOT / "src"), "200", "10")
    try:
        base = 0.25
        settings = Settings(
            clob_ws_url=sim.info["ws"], clob_url=sim.info["rest"], reconnect_base_s=base, reconnect_max_s=2.0
        )
        books = BookStore()
        router = EventRouter(books)
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(5)) as manager,
        ):
            tokens = sim.info["tokens"]
            await manager.subscribe_assets(tokens)
            sim.send("go")
            (conn,) = manager.connections()
            results = []
            for _ in range(trials):
                await until(lambda: conn.first_event_at_monotonic is not None and conn.state == "connected")
                before = conn.reconnects
                await asyncio.sleep(0.3)
                sim.send("drop")
                await until(lambda: conn.reconnects != before and conn.first_event_at_monotonic is not None)  # noqa: B023
                assert conn.disconnected_at_monotonic is not None
                results.append((conn.first_event_at_monotonic - conn.disconnected_at_monotonic, conn.last_delay_s))
            worst = max(r[0] for r in results)
            mean = statistics.mean(r[0] for r in results)
            overhead = max(r[0] - (r[1] or 0) for r in results)
            print(
                f"    reconnect -> first fresh event over {trials} drops (backoff base {base} s, full jitter): "
                f"mean {mean:.3f} s, worst {worst:.3f} s (target <= {base + 0.5:.2f} s); "
                f"worst time beyond the drawn delay {overhead * 1000:.1f} ms"
            )
    finally:
        sim.close()


# --- memory ----------------------------------------------------------------------------------------

MEMORY_CODE = r"""
import gc, json, random, sys, tracemalloc
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import ingest
from ingest import Market, book_frame, build_pipeline, make_frames, rss_mb
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame
max_depth = int(sys.argv[3])
base = rss_mb()
rng = random.Random(7)
markets = [Market(rng, max_depth) for _ in range(500)]
manager, conn, logs = build_pipeline(markets, 1000)
for m in markets:
    for t in (0, 1):
        manager._on_frame(conn, parse_market_frame(json.dumps(book_frame(m, t, 1)), 1), 1)
levels = sum(sum(b.level_counts()) for b in (manager.books.get(t) for m in markets for t in m.tokens) if b)
gc.collect()
after_books = rss_mb()
frames = make_frames(markets, 60000, rng)
half = len(frames) // 2
for raw in frames[:half]:
    manager._on_frame(conn, parse_market_frame(raw, 1), 1)
gc.collect()
full = rss_mb()
# Bytes held by buffered entries and their events: trace the second half, then drop the logs' contents
# and measure what that frees (only entries appended while tracing are counted).
mid = [log.last_seq for log in logs]
tracemalloc.start()
for raw in frames[half:]:
    manager._on_frame(conn, parse_market_frame(raw, 1), 1)
gc.collect()
held = tracemalloc.get_traced_memory()[0]
traced_entries = sum(min(len(log), log.last_seq - m) for log, m in zip(logs, mid))
buffered = sum(len(log) for log in logs)
for log in logs:
    log._buf = [None] * log.capacity
gc.collect()
freed = held - tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
print(json.dumps({"base": base, "books": after_books, "full": full, "levels": levels, "buffered": buffered,
                  "traced_entries": traced_entries, "freed": freed}))
"""


def bench_memory() -> None:
    print("(c) memory (fresh process per line)")
    for max_depth, label in (
        (30, "venue-like books (10-30 levels a side)"),
        (100, "deep books (20-100 levels a side)"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CODE, str(ROOT / "src"), str(Path(__file__).parent), str(max_depth)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        print(
            f"    {label}: RSS {r['base']:.1f} MB after imports, {r['books']:.1f} MB with 1,000 tokens holding "
            f"full books ({r['levels']:,} levels) and 1,000 subscriptions (target <= 60 MB); "
            f"{r['full']:.1f} MB once the logs hold {r['buffered']:,} events"
        )
    per_event = r["freed"] / max(1, r["traced_entries"])
    print(
        f"    {per_event:,.0f} bytes per buffered event, entry + event object (Decimals, 77-digit token id "
        f"strings) (target <= 1 KB; measured over {r['traced_entries']:,} entries)"
    )


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, pid {os.getpid()}")
    bench_pipeline(args.quick)
    print("(b) end to end over loopback websockets (child process sending at a fixed rate -> EventLog append)")
    print(f"    load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    seconds = 3.0 if args.quick else 8.0
    # 11,200 frames/s carry ~20,000 events/s with this traffic (1.78 events per frame): the issue's
    # "20,000 msg/s"; 20,000 frames/s (~35,600 events/s) shows where one client core saturates.
    for rate in (2000.0, 11200.0, 20000.0):
        for freeze in (False, True):
            asyncio.run(e2e_run(rate, freeze, seconds, markets=50))
    asyncio.run(reconnect_run(5 if args.quick else 10))
    bench_memory()


if __name__ == "__main__":
    main()
