"""Memory: RSS per 1,000 subscribed tokens and per 1,000 buffered events (issue 6).

Run: ``.venv/bin/python benchmarks/memory.py``.

Each measurement runs in a fresh child process (so earlier allocations do not hide in the allocator):

(a) tokens: 1,000 tokens (500 markets) with full books (20-100 levels a side, from ``ingest``) in the
    :class:`BookStore`, each with its own price subscription (``EventRouter`` + ``EventLog``) as
    ``subscribe_market_prices`` creates; RSS after minus RSS before, per 1,000 tokens. The baseline is
    taken before the book frames are parsed (the books hold the parsed Decimal levels).
(b) buffered events: 100 subscriptions whose logs (capacity 1,000) are filled to the brim with realistic
    parsed events (price changes, trades, book snapshots); RSS delta per 1,000 retained events.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import gc, json, random, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from ingest import ALL_MARKET, Market, book_frame, make_frames, rss_mb
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame

mode = sys.argv[3]
rng = random.Random(5)
if mode == "tokens":
    markets = [Market(rng) for _ in range(500)]
    frames = [json.dumps(book_frame(m, t, 1)).encode() for m in markets for t in (0, 1)]
    # Baseline before parsing: the books keep the parsed Decimals, so parsing belongs in the measure.
    # The raw frames stay alive until after the second reading, so they cancel out.
    gc.collect(); before = rss_mb()
    books = BookStore(); router = EventRouter(books)
    for i, f in enumerate(frames):
        for event in parse_market_frame(f, 1).events:
            books.apply(event)
            router.add(Subscription(f"s{i}", "prices", frozenset({event.asset_id}), frozenset(), ALL_MARKET,
                                    log=EventLog(1000)))
    gc.collect(); after = rss_mb()
    del frames
    print(json.dumps({"tokens": len(books), "mb": after - before}))
else:
    markets = [Market(rng) for _ in range(100)]
    tokens = [t for m in markets for t in m.tokens]
    frames = make_frames(markets, 80_000, rng)
    books = BookStore(); router = EventRouter(books)
    logs = []
    for i in range(100):
        log = EventLog(1000); logs.append(log)
        router.add(Subscription(f"s{i}", "prices", frozenset({tokens[i]}), frozenset(), ALL_MARKET, log=log))
    for m in markets:
        for t in (0, 1):
            for e in parse_market_frame(json.dumps(book_frame(m, t, 1)).encode(), 1).events:
                books.apply(e)
    gc.collect(); before = rss_mb()
    for raw in frames:
        for event in parse_market_frame(raw, 1).events:
            books.apply(event); router.route(event)
    del frames
    gc.collect(); after = rss_mb()
    held = sum(min(log.last_seq, log.capacity) for log in logs)
    print(json.dumps({"events": held, "mb": after - before}))
"""


def run(mode: str) -> dict[str, float]:
    import json

    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(HERE), str(HERE.parent / "src"), mode],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    tokens = run("tokens")
    print(
        f"(a) {tokens['tokens']:,.0f} tokens with full books + one subscription each: "
        f"{tokens['mb'] / tokens['tokens'] * 1000:.1f} MB RSS per 1,000 tokens"
    )
    events = run("events")
    print(
        f"(b) {events['events']:,.0f} buffered events: {events['mb'] / events['events'] * 1000 * 1024:.0f} KB RSS "
        f"per 1,000 events ({events['mb'] * 1024 * 1024 / max(events['events'], 1):.0f} bytes/event)"
    )


if __name__ == "__main__":
    main()
