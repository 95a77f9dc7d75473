"""BookStore dispatch, orphans, crossed-book resync, staleness, REST snapshot ordering."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.events import (
    BestBidAsk,
    BookSnapshot,
    LastTrade,
    Level,
    LevelChange,
    PriceChange,
    TickSizeChange,
)
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame

D = Decimal
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "polymarket"


def snap(asset: str = "1", bid: str = "0.40", ask: str = "0.60", **kwargs: object) -> BookSnapshot:
    return BookSnapshot(
        asset_id=asset,
        market="0xm",
        bids=(Level(D(bid), D(10)),),
        asks=(Level(D(ask), D(10)),),
        **kwargs,  # type: ignore[arg-type]
    )


def change(asset: str, side: str, price: str, size: str) -> PriceChange:
    return PriceChange(asset_id=asset, market="0xm", changes=(LevelChange(side, D(price), D(size)),))  # type: ignore[arg-type]


def test_fixture_stream_builds_books() -> None:
    store = BookStore()
    for name in ("market_initial_dump.json", "market_tick_size_change.json", "market_last_trade_price.json"):
        for event in parse_market_frame((FIXTURES / name).read_bytes(), 1).events:
            store.apply(event)
    assert len(store) == 2
    token = "98756637703320879198441871470345384821367334051929992047845197222571333888980"
    book = store.get(token)
    assert book is not None and token in store
    assert (book.best_bid(), book.best_ask()) == (D("0.02"), D("0.98"))
    assert book.tick_size == D("0.001") and book.last_trade_price == D("0.456")
    assert (store.snapshots, store.tick_size_changes, store.last_trades) == (2, 1, 1)


def test_orphan_price_change_is_counted_and_ignored() -> None:
    store = BookStore()
    store.apply(change("nobody", "BUY", "0.5", "1"))
    store.apply(TickSizeChange(asset_id="nobody", market="m", old_tick_size=None, new_tick_size=D("0.01")))
    store.apply(BestBidAsk(asset_id="nobody", market="m", best_bid=None, best_ask=None))
    assert store.orphan_updates == 1 and len(store) == 0 and store.get("nobody") is None


def test_crossed_book_counted_once_and_resynced_by_snapshot() -> None:
    store = BookStore()
    store.apply(snap())
    store.apply(change("1", "BUY", "0.60", "5"))  # locked
    store.apply(change("1", "BUY", "0.61", "5"))  # still crossed: not counted again
    assert store.crossed_detected == 1 and store.needs_resync() == {"1"}
    book = store.get("1")
    assert book is not None and book.stale and book.stale_reason == "crossed book"
    store.needs_resync().clear()  # a copy: the store keeps its own set
    assert store.needs_resync() == {"1"}
    store.apply(snap())
    fresh = store.get("1")
    assert fresh is book and store.needs_resync() == set() and not fresh.stale
    assert store.counters()["needs_resync"] == 0


def test_mark_stale_and_discard() -> None:
    store = BookStore()
    store.apply(snap("1"))
    store.apply(snap("2"))
    store.mark_stale(["1", "unknown"], "connection lost")
    one, two = store.get("1"), store.get("2")
    assert one is not None and two is not None
    assert one.stale and one.stale_reason == "connection lost" and not two.stale
    assert store.stale_marked == 1
    store.discard("1")
    store.discard("1")
    assert store.get("1") is None and len(store) == 1 and store.asset_ids() == ["2"]


def test_old_rest_snapshot_does_not_roll_back_a_live_book() -> None:
    store = BookStore()
    store.apply(snap(ts_event_ms=2_000))
    store.apply(LastTrade(asset_id="1", market="m", price=D("0.5"), size=D(1), ts_event_ms=3_000))
    store.apply(snap(bid="0.10", source="rest", ts_event_ms=2_500))
    book = store.get("1")
    assert book is not None and book.best_bid() == D("0.40") and store.old_snapshots_ignored == 1
    store.mark_stale(["1"], "reconnecting")
    store.apply(snap(bid="0.10", source="rest", ts_event_ms=2_500))  # a stale book takes any snapshot
    assert book.best_bid() == D("0.10") and book.source == "rest" and not book.stale


def test_top_of_book_mismatch_is_counted() -> None:
    store = BookStore()
    store.apply(snap())
    agree = PriceChange(
        asset_id="1",
        market="m",
        changes=(LevelChange("BUY", D("0.45"), D(1)),),
        best_bid=D("0.45"),
        best_ask=D("0.60"),
    )
    store.apply(agree)
    emptied = PriceChange(
        asset_id="1", market="m", changes=(LevelChange("SELL", D("0.60"), D(0)),), best_bid=D("0.45"), best_ask=D(0)
    )
    store.apply(emptied)  # "0" = empty side, which is what we have
    assert store.top_mismatches == 0
    store.apply(PriceChange(asset_id="1", market="m", changes=(), best_bid=D("0.44")))
    assert store.top_mismatches == 1 and store.needs_resync() == set()


@pytest.mark.anyio
async def test_wait_live_wakes_on_the_snapshot_and_reports_what_stays_cold() -> None:
    store = BookStore()
    store.apply(snap("1"))
    store.mark_stale(["1"], "socket dropped")
    assert await store.wait_live(["1", "2"], 0) == ["1", "2"]  # no wait at all: both still not live
    result: list[list[str]] = []

    async def waiter() -> None:
        result.append(await store.wait_live(["1", "2"], 30))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            store.apply(snap("2"))  # one of two: the waiter parks again for the other
            await anyio.wait_all_tasks_blocked()
            assert not result
            store.apply(snap("1"))
    assert result == [[]] and not store._live_waiters  # woken by the snapshot, not the timeout; nothing leaks
    store.mark_stale(["2"], "socket dropped")
    with anyio.fail_after(5):
        assert await store.wait_live(["1", "2"], 0.05) == ["2"]  # bounded: the cold book is reported
