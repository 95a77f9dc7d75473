"""OrderBook update throughput with 20-100 level books.

Measures ``OrderBook.apply_price_change`` + ``best_bid``/``best_ask`` (what the feed does per update),
the same through ``BookStore.apply`` (dispatch + crossed check), and for context a naive book
(Decimal dicts + ``max()``/``min()`` on every read, the approach the limit study found slow).

Traffic mix per side, near the top of book: ~70% size changes of existing levels, ~15% removals
(size 0), ~15% new levels; books never cross.

Run: ``.venv/bin/python benchmarks/book_apply.py``
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal

from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.book import OrderBook
from polymarket_realtime.model.events import BookSnapshot, Level, LevelChange, PriceChange, Side

TICK = Decimal("0.001")


def make_snapshot(levels: int) -> BookSnapshot:
    # Bids 0.001..0.499-ish below 0.5, asks from 0.501 up: leaves room for new levels on both sides.
    bids = tuple(Level(Decimal(500 - 2 * i - 1) * TICK, Decimal(100 + i)) for i in range(levels))
    asks = tuple(Level(Decimal(500 + 2 * i + 1) * TICK, Decimal(100 + i)) for i in range(levels))
    return BookSnapshot(asset_id="1", market="0xm", bids=bids, asks=asks, ts_recv_ns=1)


def make_updates(levels: int, count: int, rng: random.Random) -> list[PriceChange]:
    live: dict[Side, set[int]] = {
        "BUY": {500 - 2 * i - 1 for i in range(levels)},
        "SELL": {500 + 2 * i + 1 for i in range(levels)},
    }
    updates = []
    for n in range(count):
        side: Side = "BUY" if rng.random() < 0.5 else "SELL"
        ticks = live[side]
        roll = rng.random()
        if roll < 0.15 and len(ticks) > 5:
            tick = rng.choice(sorted(ticks)[-10:] if side == "BUY" else sorted(ticks)[:10])
            ticks.discard(tick)
            size = Decimal(0)
        elif roll < 0.30:
            tick = rng.randrange(400, 500) if side == "BUY" else rng.randrange(501, 600)
            ticks.add(tick)
            size = Decimal(rng.randint(1, 10_000)) / 100
        else:
            tick = rng.choice(tuple(ticks))
            size = Decimal(rng.randint(1, 10_000)) / 100
        change = LevelChange(side, Decimal(tick) * TICK, size)
        updates.append(PriceChange(asset_id="1", market="0xm", changes=(change,), ts_recv_ns=n + 2))
    return updates


class NaiveBook:
    """Decimal dicts, best price by max()/min() on every read."""

    def __init__(self, snapshot: BookSnapshot) -> None:
        self.bids = {lv.price: lv.size for lv in snapshot.bids}
        self.asks = {lv.price: lv.size for lv in snapshot.asks}

    def apply(self, update: PriceChange) -> None:
        for ch in update.changes:
            book = self.bids if ch.side == "BUY" else self.asks
            if ch.size:
                book[ch.price] = ch.size
            else:
                book.pop(ch.price, None)

    def best(self) -> tuple[Decimal | None, Decimal | None]:
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)


def timed(run: Callable[[], None], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = random.Random(11)
    count = 50_000
    print(
        f"{'levels/side':>11} {'OrderBook upd/s':>16} {'BookStore upd/s':>16} {'naive max() upd/s':>18} {'speedup':>8}"
    )
    for levels in (20, 50, 100):
        snapshot = make_snapshot(levels)
        updates = make_updates(levels, count, rng)

        def run_book(snapshot: BookSnapshot = snapshot, updates: list[PriceChange] = updates) -> None:
            book = OrderBook("1")
            book.apply_snapshot(snapshot)
            for update in updates:
                book.apply_price_change(update)
                book.best_bid()
                book.best_ask()

        def run_store(snapshot: BookSnapshot = snapshot, updates: list[PriceChange] = updates) -> None:
            store = BookStore()
            store.apply(snapshot)
            for update in updates:
                store.apply(update)

        def run_naive(snapshot: BookSnapshot = snapshot, updates: list[PriceChange] = updates) -> None:
            naive = NaiveBook(snapshot)
            for update in updates:
                naive.apply(update)
                naive.best()

        # Same final state (sanity, not timed).
        book = OrderBook("1")
        book.apply_snapshot(snapshot)
        naive = NaiveBook(snapshot)
        for update in updates:
            book.apply_price_change(update)
            naive.apply(update)
        assert (book.best_bid(), book.best_ask()) == naive.best()

        # Interleaved best-of rounds: the machine is shared, so noise must not favour one variant.
        t_book = t_store = t_naive = float("inf")
        for _ in range(5):
            t_book = min(t_book, timed(run_book, 1))
            t_store = min(t_store, timed(run_store, 1))
            t_naive = min(t_naive, timed(run_naive, 1))
        print(
            f"{levels:>11} {count / t_book:>16,.0f} {count / t_store:>16,.0f} {count / t_naive:>18,.0f}"
            f" {t_naive / t_book:>7.1f}x"
        )
    book = OrderBook("1")
    book.apply_snapshot(make_snapshot(100))
    start = time.perf_counter()
    for _ in range(2_000):
        book.view(10, now_ns=2)
    print(f"view(depth=10) on a 100-level book: {2_000 / (time.perf_counter() - start):,.0f}/s")


if __name__ == "__main__":
    main()
