from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import pytest

from polymarket_realtime.errors import NotFoundError
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.book import BookTop
from polymarket_realtime.model.events import (
    BookSnapshot,
    CryptoPrice,
    Event,
    FeedStatus,
    LastTrade,
    Level,
    LevelChange,
    MarketResolved,
    PriceChange,
    UserOrder,
)
from polymarket_realtime.routing.eventlog import EventLog, LogEntry, entry_to_dict
from polymarket_realtime.routing.router import EventRouter, Subscription

A, B, C = "111", "222", "333"
M1, M2 = "0x" + "1" * 64, "0x" + "2" * 64
PRICES = frozenset({"price_change", "last_trade_price", "best_bid_ask"})


def real_books() -> BookStore:
    """A real BookStore with a snapshot for A and B (bids 0.40/0.39, asks 0.60/0.61)."""
    books = BookStore()
    for asset in (A, B):
        books.apply(
            BookSnapshot(
                asset_id=asset,
                market=M1,
                bids=(Level(Decimal("0.40"), Decimal(10)), Level(Decimal("0.39"), Decimal(20))),
                asks=(Level(Decimal("0.60"), Decimal(5)), Level(Decimal("0.61"), Decimal(7))),
                ts_recv_ns=1,
            )
        )
    return books


def sub(
    sid: str, *, tokens: tuple[str, ...] = (), markets: tuple[str, ...] = (), types=PRICES, **kw: Any
) -> Subscription:
    return Subscription(sid, "test", frozenset(tokens), frozenset(markets), frozenset(types), log=EventLog(100), **kw)


def change(asset: str, market: str = M1) -> PriceChange:
    return PriceChange(asset_id=asset, market=market, changes=(LevelChange("BUY", Decimal("0.5"), Decimal(1)),))


def trade(asset: str) -> LastTrade:
    return LastTrade(asset_id=asset, market=M1, price=Decimal("0.5"), size=Decimal(1), ts_recv_ns=42)


def seqs(s: Subscription) -> list[str]:
    return [e.event.type + ":" + getattr(e.event, "asset_id", "") for e in s.log.read(0, 100).entries]


def test_routes_by_asset_and_type() -> None:
    router = EventRouter(real_books())
    a = router.add(sub("a", tokens=(A,)))
    ab = router.add(sub("ab", tokens=(A, B), types={"last_trade_price"}))
    assert router.route(change(A)) == 1
    assert router.route(trade(B)) == 1
    assert router.route(change(C)) == 0
    assert seqs(a) == ["price_change:" + A]
    assert seqs(ab) == ["last_trade_price:" + B]
    assert ab.last_event_ns == 42


def test_market_filter_and_wide_subscriptions_each_deliver_once() -> None:
    router = EventRouter()
    user = router.add(sub("u", markets=(M1,), types={"user_order"}))
    everything = router.add(sub("all", types={"user_order", "market_resolved"}))
    both = router.add(sub("both", tokens=(A,), markets=(M1,), types={"user_order"}))
    order = UserOrder(
        order_id="o1",
        market=M1,
        asset_id=A,
        action="PLACEMENT",
        side="BUY",
        price=Decimal("0.4"),
        original_size=Decimal(10),
        size_matched=Decimal(0),
    )
    assert router.route(order) == 3
    assert both.log.last_seq == 1  # matched by token and by market, delivered once
    other = UserOrder(
        order_id="o2",
        market=M2,
        asset_id=C,
        action="PLACEMENT",
        side="BUY",
        price=Decimal("0.4"),
        original_size=Decimal(10),
        size_matched=Decimal(0),
    )
    router.route(other)
    assert user.log.last_seq == 1 and everything.log.last_seq == 2


def test_market_wide_events_reach_token_subscriptions_through_asset_ids() -> None:
    router = EventRouter()
    res = router.add(sub("res", tokens=(B,), types={"market_resolved", "feed_status"}))
    resolved = MarketResolved(market=M1, market_id="9", asset_ids=(A, B), winning_asset_id=A, winning_outcome="Yes")
    assert router.route(resolved) == 1
    status = FeedStatus(channel="market", connection_id="market-0", state="stale", asset_ids=(B, C))
    assert router.route(status) == 1
    assert router.route(FeedStatus(channel="market", connection_id="market-1", state="stale", asset_ids=(C,))) == 0
    assert res.log.last_seq == 2


def test_depth_subscriptions_get_one_book_top_per_asset_and_depth() -> None:
    books = real_books()
    router = EventRouter(books)
    d1 = router.add(sub("d1", tokens=(A,), depth=1))
    d1b = router.add(sub("d1b", tokens=(A,), depth=1))
    d0 = router.add(sub("d0", tokens=(A,)))
    event = change(A)
    books.apply(event)
    router.route(event)
    extra = d1.log.latest(1)[0].extra
    assert extra is not None
    assert d1b.log.latest(1)[0].extra is extra  # computed once per asset and depth
    assert d0.log.latest(1)[0].extra is None
    top = extra["book"]
    assert isinstance(top, BookTop)  # stored unformatted on the hot path
    assert top.bids == (Level(Decimal("0.5"), Decimal(1)),)
    assert top.asks == (Level(Decimal("0.60"), Decimal(5)),)
    rendered = entry_to_dict(d1.log.latest(1)[0])["data"]["book"]
    assert rendered == books.get(A).view(1, event.ts_recv_ns)  # type: ignore[union-attr]
    assert rendered["best_bid"] == "0.5" and rendered["spread"] == "0.10" and rendered["mid"] == "0.55"


def test_predicate_filters_rtds_symbols_locally() -> None:
    router = EventRouter()
    btc = router.add(
        sub("btc", types={"crypto_price"}, predicate=lambda e: isinstance(e, CryptoPrice) and e.symbol == "btcusdt")
    )
    for symbol in ("btcusdt", "ethusdt", "btcusdt"):
        router.route(CryptoPrice(symbol=symbol, value=Decimal(1), source="binance"))
    assert btc.log.last_seq == 2


def test_get_remove_and_not_found_lists_active_ids() -> None:
    router = EventRouter()
    s = router.add(sub("s1", tokens=(A,)))
    router.add(sub("s2", tokens=(A,)))
    assert router.get("s1") is s
    with pytest.raises(NotFoundError, match="s1, s2"):
        router.get("nope")
    with pytest.raises(ValueError):
        router.add(sub("s1"))
    router.remove("s1")
    assert s.log.closed
    assert [x.subscription_id for x in router.list()] == ["s2"]
    assert router.route(change(A)) == 1
    with pytest.raises(NotFoundError):
        router.remove("s1")


def test_callback_errors_are_isolated() -> None:
    router = EventRouter()
    seen: list[int] = []

    def bad(s: Subscription, entry: LogEntry) -> None:
        raise RuntimeError("consumer bug")

    def good(s: Subscription, entry: LogEntry) -> None:
        seen.append(entry.seq)

    router.add(sub("bad", tokens=(A,), on_event=bad))
    router.add(sub("good", tokens=(A,), on_event=good))
    assert router.route(change(A)) == 2
    assert seen == [1] and router.callback_errors == 1


def test_sink_overflow_drops_newest_and_counts() -> None:
    router = EventRouter()
    sink = router.add_sink("slow", 3)
    prices = router.add_sink("prices-only", 10, event_types={"last_trade_price"})
    events: list[Event] = [change(A) for _ in range(5)] + [trade(A)]
    for e in events:
        router.route(e)
    assert len(sink) == 3 and sink.dropped == 3 and sink.delivered == 3
    assert sink.get_nowait_batch() == events[:3]  # the oldest were kept
    assert len(prices) == 1 and prices.dropped == 0
    assert router.sink_dropped == 3
    sink.close()
    assert sink not in router.sinks()


@pytest.mark.anyio
async def test_sink_async_iteration_wakes_and_ends_on_close() -> None:
    router = EventRouter()
    sink = router.add_sink("consumer", 10)
    got: list[Event] = []

    async def consume() -> None:
        async for event in sink:
            got.append(event)  # noqa: PERF401  # the test inspects progress while iterating

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.wait_all_tasks_blocked()
            router.route(trade(A))
            router.route(trade(B))
            await anyio.wait_all_tasks_blocked()
            assert len(got) == 2
            sink.close()
    assert [e.asset_id for e in got if isinstance(e, LastTrade)] == [A, B]
