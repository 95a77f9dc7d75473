"""Replay as fast as possible: how quickly a recording goes back through the pipeline (issue 6).

Run: ``.venv/bin/python benchmarks/replay_speed.py [--quick]``.

A recording of realistic traffic (``ingest.make_frames``: 100 markets, book snapshots of 20-100 levels,
price_change bursts naming both tokens, trades, best_bid_ask) is written with the real recorder format,
then read back four ways; rates are wire events (messages) per second:

(a) reader only: gunzip members + decode frame lines;
(b) reader + ``parse_market_frame`` + ``BookStore.apply`` (the backtest's data path, sans-I/O);
(c) a full backtest as ``backtest``/``run_backtest`` run it by default: (b) plus a paper session and one
    mean-reversion strategy agent per recorded token (all 200); the headline figure. (c4) the same on
    4 tokens only, for comparison (per-event cost should not grow with the number of agents);
(d) over the simulator's real sockets (``ReplaySource``, speed max) into the feed manager, books and
    router, until the client has received every event.

Target: replay >= 30,000 msg/s, so an hour of busy recording backtests in under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from ingest import Market, book_frame, make_frames  # noqa: E402
from polymarket_realtime.backtest import run_backtest  # noqa: E402
from polymarket_realtime.config import Settings  # noqa: E402
from polymarket_realtime.feed.books import BookStore  # noqa: E402
from polymarket_realtime.recording.format import RecordingHeader, encode_frame_line  # noqa: E402
from polymarket_realtime.recording.reader import RecordingReader  # noqa: E402
from polymarket_realtime.recording.writer import RecordingWriter  # noqa: E402
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame  # noqa: E402


def write_recording(directory: Path, frames_n: int) -> tuple[Path, list[str], int]:
    rng = random.Random(7)
    markets = [Market(rng) for _ in range(100)]
    tokens = [t for m in markets for t in m.tokens]
    dump = json.dumps([book_frame(m, t, 1) for m in markets for t in (0, 1)], separators=(",", ":"))
    frames = [dump] + [f.decode() for f in make_frames(markets, frames_n, rng)]
    header = RecordingHeader(recording_id="bench", created_ns=0, token_ids=tokens)
    writer = RecordingWriter(directory, header, fsync=False)
    ts = 1_795_000_000_000_000_000
    batch: list[bytes] = []
    for text in frames:
        ts += 200_000  # 5,000 frames per recorded second
        batch.append(encode_frame_line("market", ts, text))
        if len(batch) == 2_000:
            writer.write_lines(batch)
            batch = []
    writer.write_lines(batch)
    writer.close()
    events = sum(len(parse_market_frame(f, 1).events) for f in frames)
    return writer.path, tokens, events


def timed(label: str, events: int, fn: object) -> float:
    t0 = time.perf_counter()
    c0 = time.process_time()
    fn()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<44} {events / cpu:>10,.0f} msg/s CPU  {events / wall:>10,.0f} msg/s wall")
    return events / cpu


def read_only(path: Path) -> None:
    for _ in RecordingReader(path).frames():
        pass


def parse_and_apply(path: Path) -> None:
    books = BookStore()
    apply = books.apply
    for frame in RecordingReader(path).frames():
        for event in parse_market_frame(frame.data, frame.ts_recv_ns).events:
            apply(event)


def backtest(path: Path, tokens: list[str] | None) -> None:
    config: dict[str, object] = {"window": 10, "threshold": "0.01"}
    if tokens is not None:
        config["token_ids"] = tokens
    result = asyncio.run(run_backtest(path, "mean_reversion", config, Decimal(10_000)))
    agents = len(result.summary["token_ids"])
    print(f"    (backtest: {agents} agents, {result.summary['trades']} trades)")


async def over_sockets(path: Path, tokens: list[str], events: int) -> tuple[float, float]:
    from polymarket_realtime.feed.manager import WebSocketManager
    from polymarket_realtime.routing.router import EventRouter
    from polymarket_realtime.simulator.replay import replay_simulator
    from polymarket_realtime.venues.polymarket.rest import ClobRestClient

    async with replay_simulator(path, speed=None) as sim:
        settings = Settings(
            clob_ws_url=sim.ws_url, rtds_ws_url=sim.rtds_url, clob_url=sim.rest_url, gamma_url=sim.rest_url
        )
        books = BookStore()
        router = EventRouter(books)
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
        ):
            t0, c0 = time.perf_counter(), time.process_time()
            await manager.subscribe_assets(tokens)
            source = sim.source
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if getattr(source, "finished", False) and manager.stats.total_events >= events * 0.999:
                    break
                await asyncio.sleep(0.01)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            got = manager.stats.total_events
    return got / wall, got / cpu


def main() -> None:
    # The synthetic traffic crosses books now and then; the warnings are expected noise here.
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    frames_n = 30_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path, tokens, events = write_recording(Path(tmp), frames_n)
        size = sum(p.stat().st_size for p in RecordingReader(path).parts())
        print(f"replay speed: {frames_n + 1:,} frames, {events:,} events, {size / 1e6:.1f} MB compressed")
        timed("(a) reader only (gunzip + frame lines)", events, lambda: read_only(path))
        timed("(b) reader + parse + BookStore.apply", events, lambda: parse_and_apply(path))
        timed("(c) full backtest, default: every token", events, lambda: backtest(path, None))
        timed("(c4) full backtest, 4 tokens", events, lambda: backtest(path, tokens[:4]))
        wall_rate, cpu_rate = asyncio.run(over_sockets(path, tokens, events))
        print(
            f"  {'(d) simulator sockets -> feed (speed max)':<44} {cpu_rate:>10,.0f} msg/s CPU  "
            f"{wall_rate:>10,.0f} msg/s wall (both processes' work in one: server and client share the CPU)"
        )


if __name__ == "__main__":
    main()
