"""OrderBook against a naive reference model (plain dicts + sorted), plus views, walk and freshness."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from polymarket_realtime.model.book import OrderBook
from polymarket_realtime.model.events import (
    BookSnapshot,
    LastTrade,
    Level,
    LevelChange,
    PriceChange,
    Side,
    TickSizeChange,
)
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame

D = Decimal


class FakeClock:
    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def monotonic(self) -> float:
        return self.now_ns / 1e9

    def time_ns(self) -> int:
        return self.now_ns


class Reference:
    """The obviously-correct book: two dicts, sorted on every read."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def snapshot(self, bids: list[Level], asks: list[Level]) -> None:
        self.bids = {}
        self.asks = {}
        for level in bids:
            self.bids[level.price] = level.size
        for level in asks:
            self.asks[level.price] = level.size
        self.bids = {p: s for p, s in self.bids.items() if s != 0}
        self.asks = {p: s for p, s in self.asks.items() if s != 0}

    def change(self, side: Side, price: Decimal, size: Decimal) -> None:
        book = self.bids if side == "BUY" else self.asks
        if size == 0:
            book.pop(price, None)
        else:
            book[price] = size

    def levels(self) -> tuple[list[Level], list[Level]]:
        bids = [Level(p, self.bids[p]) for p in sorted(self.bids, reverse=True)]
        asks = [Level(p, self.asks[p]) for p in sorted(self.asks)]
        return bids, asks


# Prices on a 0.001 grid written with varying trailing zeros ("0.5" vs "0.500"): equal Decimals.
prices = st.builds(
    lambda n, zeros: D(n).scaleb(-3).quantize(D(1).scaleb(-3 - zeros)), st.integers(1, 999), st.integers(0, 2)
)
sizes = st.one_of(st.just(D(0)), st.decimals(min_value=D("0.000001"), max_value=D(10**7), places=6))
levels = st.builds(Level, prices, sizes)
changes = st.builds(LevelChange, st.sampled_from(["BUY", "SELL"]), prices, sizes)


def snapshot(bids: list[Level], asks: list[Level], ts: int = 1, **kwargs: object) -> BookSnapshot:
    return BookSnapshot(
        asset_id="1",
        market="0xm",
        bids=tuple(bids),
        asks=tuple(asks),
        ts_recv_ns=ts,
        **kwargs,  # type: ignore[arg-type]
    )


def check(book: OrderBook, ref: Reference) -> None:
    bids, asks = ref.levels()
    assert book.bids() == bids
    assert book.asks() == asks
    assert book.best_bid() == (bids[0].price if bids else None)
    assert book.best_ask() == (asks[0].price if asks else None)
    if bids and asks:
        assert book.mid() == (bids[0].price + asks[0].price) / 2
        assert book.spread() == asks[0].price - bids[0].price
        assert book.is_crossed() == (bids[0].price >= asks[0].price)
    else:
        assert book.mid() is None and book.spread() is None and not book.is_crossed()
    assert book.level_counts() == (len(bids), len(asks))
    for depth in (0, 1, 3):
        assert book.bids(depth) == bids[:depth] and book.asks(depth) == asks[:depth]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(levels, max_size=25),
    st.lists(levels, max_size=25),
    st.lists(st.lists(changes, min_size=1, max_size=6), max_size=25),
)
def test_matches_reference_model(bids: list[Level], asks: list[Level], updates: list[list[LevelChange]]) -> None:
    book = OrderBook("1")
    ref = Reference()
    book.apply_snapshot(snapshot(bids, asks))
    ref.snapshot(bids, asks)
    check(book, ref)
    for i, batch in enumerate(updates):
        book.apply_price_change(PriceChange(asset_id="1", market="0xm", changes=tuple(batch), ts_recv_ns=i + 2))
        for change in batch:
            ref.change(change.side, change.price, change.size)
        check(book, ref)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]), prices), min_size=1, max_size=20), st.data())
def test_remove_and_readd_same_levels(keys: list[tuple[Side, Decimal]], data: st.DataObject) -> None:
    book = OrderBook("1")
    ref = Reference()
    book.apply_snapshot(snapshot([], []))
    for _ in range(3):
        for side, price in keys:
            size = data.draw(sizes)
            book.apply_price_change(PriceChange(asset_id="1", market="m", changes=(LevelChange(side, price, size),)))
            ref.change(side, price, size)
        check(book, ref)
        for side, price in keys:  # remove everything, then add again
            book.apply_price_change(PriceChange(asset_id="1", market="m", changes=(LevelChange(side, price, D(0)),)))
            ref.change(side, price, D(0))
        check(book, ref)
        assert book.level_counts() == (0, 0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(levels, min_size=1, max_size=20, unique_by=lambda lv: lv.price),
    st.lists(levels, max_size=20, unique_by=lambda lv: lv.price),
)
def test_venue_order_books_give_the_right_best_prices(bids: list[Level], asks: list[Level]) -> None:
    # The venue sends bids ascending and asks descending: the best price is the LAST element.
    wire_bids = sorted(bids, key=lambda lv: lv.price)
    wire_asks = sorted(asks, key=lambda lv: lv.price, reverse=True)
    frame = (
        '{"event_type":"book","asset_id":"1","market":"0xm","timestamp":"1",'
        f'"bids":[{",".join(_level(lv) for lv in wire_bids)}],"asks":[{",".join(_level(lv) for lv in wire_asks)}]}}'
    )
    (event,) = parse_market_frame(frame, 5).events
    assert isinstance(event, BookSnapshot)
    book = OrderBook("1")
    book.apply_snapshot(event)
    live_bids = [lv for lv in wire_bids if lv.size]
    live_asks = {lv.price for lv in wire_asks if lv.size}
    assert book.best_bid() == (live_bids[-1].price if live_bids else None)
    assert book.best_ask() == (min(live_asks) if live_asks else None)


def _level(level: Level) -> str:
    return f'{{"price":"{level.price}","size":"{level.size}"}}'


def test_locked_and_crossed_detection() -> None:
    book = OrderBook("1")
    book.apply_snapshot(snapshot([Level(D("0.4"), D(1))], [Level(D("0.5"), D(1))]))
    assert not book.is_crossed()
    book.apply_price_change(PriceChange(asset_id="1", market="m", changes=(LevelChange("BUY", D("0.50"), D(2)),)))
    assert book.is_crossed()  # locked counts
    assert book.spread() == D(0)


def test_walk_consumes_best_first_and_partially() -> None:
    book = OrderBook("1")
    book.apply_snapshot(
        snapshot(
            [Level(D("0.40"), D("5")), Level(D("0.41"), D("2"))],
            [Level(D("0.55"), D("3")), Level(D("0.52"), D("1.5"))],
        )
    )
    assert book.walk("BUY", D("4")) == [Level(D("0.52"), D("1.5")), Level(D("0.55"), D("2.5"))]
    assert book.walk("SELL", D("2")) == [Level(D("0.41"), D("2"))]
    assert book.walk("SELL", D("100")) == [Level(D("0.41"), D("2")), Level(D("0.40"), D("5"))]  # depth runs out
    assert book.walk("BUY", D(0)) == []
    assert book.size_at("BUY", D("0.41")) == D(2) and book.size_at("SELL", D("0.41")) == D(0)


def test_view_is_json_ready_and_tracks_freshness() -> None:
    clock = FakeClock(10_000_000_000)
    book = OrderBook("1", clock=clock)
    assert book.stale and book.view()["age_s"] is None
    book.apply_snapshot(
        snapshot(
            [Level(D("0.40"), D("5")), Level(D("0.41"), D("2"))],
            [Level(D("0.55"), D("3"))],
            ts=9_500_000_000,
            tick_size=D("0.01"),
            last_trade_price=D("0.410"),
        )
    )
    view = book.view(depth=1)
    assert view["bids"] == [{"price": "0.41", "size": "2"}]
    assert view["asks"] == [{"price": "0.55", "size": "3"}]
    assert (view["best_bid"], view["best_ask"], view["mid"], view["spread"]) == ("0.41", "0.55", "0.48", "0.14")
    assert view["tick_size"] == "0.01" and view["last_trade_price"] == "0.410"
    assert view["source"] == "ws" and view["stale"] is False and view["age_s"] == 0.5
    assert book.view(depth=5, now_ns=12_000_000_000)["age_s"] == 2.5
    book.apply_tick_size(TickSizeChange(asset_id="1", market="m", old_tick_size=D("0.01"), new_tick_size=D("0.001")))
    book.apply_last_trade(LastTrade(asset_id="1", market="m", price=D("0.42"), size=D(1), ts_recv_ns=11_000_000_000))
    assert book.tick_size == D("0.001") and book.last_trade_price == D("0.42")
    assert book.updated_recv_ns == 11_000_000_000
    book.mark_stale("disconnected")
    assert book.view()["stale"] is True and book.stale_reason == "disconnected"
    book.apply_snapshot(snapshot([], [], ts=12_000_000_000, source="rest"))
    assert book.view()["stale"] is False and book.source == "rest"
    assert book.view()["best_bid"] is None and book.view()["mid"] is None
