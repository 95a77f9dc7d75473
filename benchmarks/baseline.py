"""A deliberately naive market-data pipeline, written the way typical hobby code does it.

Same job as ours (decode each frame, keep every order book up to date, hand each event to the
subscriptions that want it, keep the last 1,000 events per subscription), with the usual choices:

* stdlib ``json.loads`` into dicts, prices and sizes as floats;
* books as lists of ``[price, size]`` levels, found by linear search and re-sorted after every change;
* subscribers as a list of callbacks, each filtered with ``in list`` checks on token ids and types;
* per-subscription buffers as lists trimmed with ``pop(0)``.

Kept in ``benchmarks/`` only: it exists to be measured against (see ``compare_baseline.py``).
Run alone: ``.venv/bin/python benchmarks/baseline.py`` prints its own throughput.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

BUFFER = 1000


class NaiveBook:
    """Levels kept as received (a list of [price, size] floats), re-sorted after every change."""

    def __init__(self) -> None:
        self.bids: list[list[float]] = []
        self.asks: list[list[float]] = []

    def snapshot(self, msg: dict[str, Any]) -> None:
        self.bids = [[float(level["price"]), float(level["size"])] for level in msg["bids"]]
        self.asks = [[float(level["price"]), float(level["size"])] for level in msg["asks"]]
        self.sort()

    def change(self, side: str, price: float, size: float) -> None:
        levels = self.bids if side == "BUY" else self.asks
        for i, level in enumerate(levels):
            if level[0] == price:
                if size == 0:
                    del levels[i]
                else:
                    level[1] = size
                break
        else:
            if size > 0:
                levels.append([price, size])
        self.sort()

    def sort(self) -> None:
        self.bids.sort(key=lambda level: level[0], reverse=True)
        self.asks.sort(key=lambda level: level[0])

    def top(self, depth: int) -> dict[str, Any]:
        return {"bids": self.bids[:depth], "asks": self.asks[:depth]}


class NaivePipeline:
    def __init__(self) -> None:
        self.books: dict[str, NaiveBook] = {}
        self.callbacks: list[Callable[[dict[str, Any]], None]] = []
        self.events = 0

    def subscribe(self, token_ids: list[str], event_types: list[str], depth: int = 0) -> list[dict[str, Any]]:
        buffer: list[dict[str, Any]] = []

        def callback(event: dict[str, Any]) -> None:
            if event["asset_id"] in token_ids and event["event_type"] in event_types:
                if depth:  # order-book subscribers get the top of the book with each event
                    event = {**event, "book": self.books[event["asset_id"]].top(depth)}
                buffer.append(event)
                if len(buffer) > BUFFER:
                    buffer.pop(0)

        self.callbacks.append(callback)
        return buffer

    def on_message(self, raw: str | bytes) -> None:
        if raw in ("PONG", b"PONG"):
            return
        data = json.loads(raw)
        for msg in data if isinstance(data, list) else [data]:
            kind = msg.get("event_type")
            if kind == "book":
                self.books.setdefault(msg["asset_id"], NaiveBook()).snapshot(msg)
                self.emit(msg)
            elif kind == "price_change":
                for change in msg["price_changes"]:
                    book = self.books.setdefault(change["asset_id"], NaiveBook())
                    book.change(change["side"], float(change["price"]), float(change["size"]))
                    self.emit({"event_type": "price_change", "market": msg["market"], **change})
            elif kind in ("last_trade_price", "best_bid_ask", "tick_size_change"):
                self.books.setdefault(msg["asset_id"], NaiveBook())
                self.emit(msg)

    def emit(self, event: dict[str, Any]) -> None:
        self.events += 1
        for callback in self.callbacks:
            callback(event)


def run(frames: list[bytes], snapshots: bytes, tokens: list[str], subs: int, types: list[str]) -> tuple[float, int]:
    """(events per second of CPU time, events) for ``subs`` one-token subscriptions."""
    pipeline = NaivePipeline()
    for i in range(subs):
        # Same mix as ours (ingest.build_pipeline): every tenth subscription wants a depth-10 book.
        pipeline.subscribe([tokens[i % len(tokens)]], list(types), depth=10 if i % 10 == 9 else 0)
    pipeline.on_message(snapshots)
    start_events = pipeline.events
    t0 = time.process_time()
    for raw in frames:
        pipeline.on_message(raw)
    elapsed = time.process_time() - t0
    events = pipeline.events - start_events
    return events / elapsed, events


if __name__ == "__main__":
    import random
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest import ALL_MARKET, Market, book_frame, make_frames

    rng = random.Random(42)
    markets = [Market(rng) for _ in range(100)]
    snaps = json.dumps([book_frame(m, t, 1) for m in markets for t in (0, 1)]).encode()
    sample = make_frames(markets, 20_000, rng)
    all_tokens = [t for m in markets for t in m.tokens]
    for n in (1, 100, 1000):
        rate, count = run(sample, snaps, all_tokens, n, sorted(ALL_MARKET))
        print(f"baseline subs={n:>5}: {rate:>9,.0f} msg/s ({count:,} events)")
