"""Redis bus building blocks against a real redis-server: keys, leases, locks, publisher -> consumer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis

from polymarket_realtime.config import Settings
from polymarket_realtime.errors import StateError
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.desired import Interest
from polymarket_realtime.model.events import (
    EVENT_TYPES,
    BestBidAsk,
    BookSnapshot,
    Comment,
    CryptoPrice,
    EquityPrice,
    Event,
    FeedStatus,
    LastTrade,
    Level,
    LevelChange,
    MakerOrder,
    MarketResolved,
    NewMarket,
    PriceChange,
    ReferencePrice,
    SportsScore,
    TickSizeChange,
    UserOrder,
    UserTrade,
)
from polymarket_realtime.redisbus.consumer import RedisFeedBackend
from polymarket_realtime.redisbus.ha import RedisLock
from polymarket_realtime.redisbus.keys import Keys
from polymarket_realtime.redisbus.leases import LeaseRegistry, read_union
from polymarket_realtime.redisbus.ownership import SessionOwnership
from polymarket_realtime.redisbus.publisher import NotLeaderError, Publisher
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret
from tests.redis_fixtures import RedisServer, redis_server, wait_redis

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]

A = "1" * 70
B = "2" * 70
MKT = "0x" + "ab" * 32
ALL_TYPES = frozenset(EVENT_TYPES)  # every event type, including ones added later


def d(x: str) -> Decimal:
    return Decimal(x)


def book(asset: str, bid: str, ask: str, ts: int = 1) -> BookSnapshot:
    return BookSnapshot(
        ts_event_ms=ts,
        ts_recv_ns=ts * 1000,
        asset_id=asset,
        market=MKT,
        bids=(Level(d(bid), d("10")),),
        asks=(Level(d(ask), d("12")),),
        tick_size=d("0.01"),
    )


def change(asset: str, side: str, price: str, size: str, ts: int) -> PriceChange:
    return PriceChange(
        ts_event_ms=ts,
        ts_recv_ns=ts * 1000,
        asset_id=asset,
        market=MKT,
        changes=(LevelChange(side, d(price), d(size)),),  # type: ignore[arg-type]
    )


def every_event_type() -> list[Event]:
    return [
        book(A, "0.40", "0.42"),
        change(A, "BUY", "0.41", "5", 2),
        LastTrade(ts_event_ms=3, asset_id=A, market=MKT, price=d("0.42"), size=d("3"), side="BUY"),
        TickSizeChange(ts_event_ms=4, asset_id=A, market=MKT, old_tick_size=d("0.01"), new_tick_size=d("0.001")),
        BestBidAsk(ts_event_ms=5, asset_id=A, market=MKT, best_bid=d("0.41"), best_ask=d("0.42"), spread=d("0.01")),
        NewMarket(
            ts_event_ms=6, market=MKT, market_id="7", question="Q?", slug="q", asset_ids=(A, B), outcomes=("Y", "N")
        ),
        MarketResolved(
            ts_event_ms=7, market=MKT, market_id="7", asset_ids=(A, B), winning_asset_id=A, winning_outcome="Y"
        ),
        UserOrder(
            ts_event_ms=8,
            order_id="o1",
            market=MKT,
            asset_id=A,
            action="PLACEMENT",
            side="BUY",
            price=d("0.4"),
            original_size=d("5"),
            size_matched=d("0"),
        ),
        UserTrade(
            ts_event_ms=9,
            trade_id="t1",
            market=MKT,
            asset_id=A,
            side="SELL",
            price=d("0.41"),
            size=d("1"),
            status="MATCHED",
            maker_orders=(MakerOrder(order_id="m", asset_id=A, matched_amount=d("1"), price=d("0.41")),),
        ),
        CryptoPrice(ts_event_ms=10, symbol="btcusdt", value=d("65000.5"), source="binance"),
        EquityPrice(ts_event_ms=11, symbol="AAPL", value=d("190.1")),
        ReferencePrice(
            ts_event_ms=14, symbol="xauusd", channel="equity", value=d("2650.12345678"), source="pyth", snapshot=True
        ),
        Comment(ts_event_ms=12, kind="comment_created", entity_type="Event", entity_id="1", comment_id="c", body="hi"),
        SportsScore(ts_event_ms=14, game_key="5127839", game_id="5127839", league="NBA", score="98-94"),
        FeedStatus(ts_event_ms=13, channel="market", connection_id="market-0", state="stale", asset_ids=(A,)),
    ]


async def until_seq(log: EventLog, n: int, within_s: float = 10.0) -> None:
    """Wait (no polling) until the subscription log holds at least ``n`` entries."""
    with anyio.fail_after(within_s):
        while log.last_seq < n:
            await log.wait(log.last_seq, within_s)


def wide_sub(sub_id: str = "all") -> Subscription:
    return Subscription(
        subscription_id=sub_id,
        kind="test",
        token_ids=frozenset(),
        market_ids=frozenset(),
        event_types=ALL_TYPES,
        log=EventLog(10_000),
    )


def consumer(server: RedisServer, books: BookStore, router: EventRouter, **kw: object) -> RedisFeedBackend:
    settings = Settings(redis_url=Secret(server.url))
    opts: dict[str, object] = {"lease_ttl_s": 3.0, "block_ms": 50, "retry_s": 0.05, **kw}
    return RedisFeedBackend(settings, books=books, router=router, **opts)  # type: ignore[arg-type]


async def test_every_event_type_round_trips_through_redis(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t1:")
    books, router = BookStore(), EventRouter()
    router.add(wide_sub())
    sent = every_event_type()
    try:
        async with consumer(redis_server, books, router, prefix="t1:") as backend:
            await backend.subscribe_assets([A])
            await backend.subscribe_rtds("crypto_prices", "update")
            await backend.subscribe_reference_prices(["equity:xauusd"])
            await backend.subscribe_user_markets([MKT])
            await backend.subscribe_sports()
            await backend.wait_joined()
            await Publisher(client, keys).publish(sent)
            log = router.get("all").log
            await until_seq(log, len(sent))
            got = [e.event for e in log.read(0, 100).entries]
    finally:
        await client.aclose()
    # Per stream order is kept; across streams the interleaving may differ, so compare as sets + per token.
    assert sorted(map(repr, got)) == sorted(map(repr, sent))
    assert [
        e for e in got if getattr(e, "asset_id", None) == A and e.type != "user_order" and e.type != "user_trade"
    ] == [e for e in sent if getattr(e, "asset_id", None) == A and e.type not in ("user_order", "user_trade")]
    a = books.get(A)
    assert a is not None and a.best_bid() == d("0.41") and a.tick_size == d("0.001")
    # The per-token feed_status copy marked the book stale (book-only, not routed twice).
    assert a.stale and sum(1 for e in got if e.type == "feed_status") == 1


async def test_new_consumer_starts_from_newest_snapshot(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t2:")
    pub = Publisher(client, keys)
    await pub.publish([book(A, "0.30", "0.35", 1), change(A, "BUY", "0.31", "4", 2), book(A, "0.50", "0.55", 3)])
    await pub.publish([change(A, "SELL", "0.54", "7", 4)])
    books, router = BookStore(), EventRouter()
    sub = Subscription("s", "test", frozenset({A}), frozenset(), ALL_TYPES, log=EventLog(100))
    router.add(sub)
    try:
        async with consumer(redis_server, books, router, prefix="t2:") as backend:
            await backend.subscribe_assets([A])
            await until_seq(sub.log, 2)
            live = change(A, "BUY", "0.51", "1", 5)
            await pub.publish([live])
            await until_seq(sub.log, 3)
    finally:
        await client.aclose()
    types = [(e.event.type, e.event.ts_event_ms) for e in sub.log.read(0, 100).entries]
    assert types == [("book", 3), ("price_change", 4), ("price_change", 5)]
    bk = books.get(A)
    assert bk is not None and not bk.stale
    assert bk.best_bid() == d("0.51") and bk.best_ask() == d("0.54")


async def test_named_consumer_restart_has_no_duplicates_or_gaps(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    pub = Publisher(client, Keys("t3:"))
    await pub.publish([book(A, "0.30", "0.35", 1)])
    seen: list[int] = []
    try:
        for round_ in range(3):
            books, router = BookStore(), EventRouter()
            sub = Subscription("s", "test", frozenset({A}), frozenset(), ALL_TYPES, log=EventLog(1000))
            router.add(sub)
            async with consumer(redis_server, books, router, prefix="t3:", consumer_name="dash") as backend:
                await backend.subscribe_assets([A])
                await backend.wait_joined()
                # Published while this consumer runs; the next round publishes while nobody reads.
                await pub.publish([change(A, "BUY", "0.3", str(10 + round_), 10 * round_ + 2)])
                await until_seq(sub.log, 2)
                seen += [e.event.ts_event_ms for e in sub.log.read(0, 100).entries]
                bk = books.get(A)
                assert bk is not None and not bk.stale  # rebuilt from the snapshot even when not routed
            await pub.publish([change(A, "BUY", "0.29", str(20 + round_), 10 * round_ + 5)])
    finally:
        await client.aclose()
    # Round 0 routes the snapshot and its own change; later rounds route the change published while the
    # consumer was down, then their own: every event exactly once, in order.
    assert seen == [1, 2, 5, 12, 15, 22]


async def test_leases_union_and_expiry(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t4:")
    try:
        one = LeaseRegistry(client, keys, "srv-1", ttl_s=0.3)
        two = LeaseRegistry(client, keys, "srv-2", ttl_s=30)
        await one.write(Interest(assets=frozenset({A}), rtds=frozenset({("comments", "*")})))
        await two.write(Interest(assets=frozenset({B}), market_events=True, sports=True))
        union = await read_union(client, keys)
        assert union.interest.assets == {A, B} and union.interest.market_events and union.interest.sports
        assert union.interest.rtds == {("comments", "*")} and union.servers == ("srv-1", "srv-2")
        # srv-1 "crashes" (stops renewing): its interest disappears by itself.
        await wait_redis(redis_server.url, lambda: _gone(client, keys), keys=[keys.lease("srv-1")])
        union = await read_union(client, keys)
        assert union.interest.assets == {B} and union.servers == ("srv-2",)
        assert await client.smembers(keys.lease_set) == {b"srv-2"}
        await two.delete()
        assert (await read_union(client, keys)).interest.empty
    finally:
        await client.aclose()


async def _gone(client: aioredis.Redis, keys: Keys) -> bool:
    return not await client.exists(keys.lease("srv-1"))


async def test_leader_lock_and_fencing(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t5:")
    try:
        first = RedisLock(client, keys.leader, "feed-1", ttl_s=0.5)
        second = RedisLock(client, keys.leader, "feed-2", ttl_s=0.5)
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.renew() and await first.holder() == "feed-1"
        await Publisher(client, keys, fence_token="feed-1").publish([book(A, "0.1", "0.2")])
        with pytest.raises(NotLeaderError):
            await Publisher(client, keys, fence_token="feed-2").publish([book(A, "0.1", "0.2")])
        # feed-1 dies (no renewal): the standby takes over once the TTL lapses.
        await wait_redis(redis_server.url, second.acquire, keys=[keys.leader])
        assert not await first.renew() and not first.held
        await first.release()  # not ours any more: must not delete feed-2's lock
        assert await second.holder() == "feed-2"
        await second.release()
        assert await second.holder() is None
        assert await client.xlen(keys.asset_stream(A)) == 1
    finally:
        await client.aclose()


async def test_session_ownership_is_exclusive(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t6:")
    try:
        owner = SessionOwnership(client, keys, "server@a", ttl_s=5)
        other = SessionOwnership(client, keys, "server@b", ttl_s=5)
        await owner.ensure()
        with pytest.raises(StateError, match=r"owned by another MCP server \(server@a\)"):
            await other.ensure()
        await owner.release()
        await other.ensure()
        assert other.held and not owner.held
    finally:
        await client.aclose()


async def test_resent_batches_are_written_and_delivered_once(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t7:")
    pub = Publisher(client, keys)
    books, router = BookStore(), EventRouter()
    sub = router.add(Subscription("s", "test", frozenset({A}), frozenset(), ALL_TYPES, log=EventLog(100)))
    try:
        async with consumer(redis_server, books, router, prefix="t7:") as backend:
            await backend.subscribe_assets([A])
            await backend.wait_joined()
            batch = [
                entry
                for e in (book(A, "0.4", "0.6", 1), change(A, "BUY", "0.41", "2", 2))
                for entry in pub.entries_for(e)
            ]
            await pub.write(batch)
            await pub.write(batch)  # the reply was "lost" and the batch re-sent: Redis skips it
            assert await client.xlen(keys.asset_stream(A)) == 2
            await until_seq(sub.log, 2)
            # Redis restarted empty (persistence off) and the feed re-sends its last batch: new stream ids,
            # same publisher sequence numbers; the consumer applies them to books but routes nothing twice.
            await client.flushall()
            await pub.write(batch)
            await pub.publish([change(A, "SELL", "0.59", "3", 3)])
            await until_seq(sub.log, 3)
            assert backend.duplicates == 2
    finally:
        await client.aclose()
    assert [e.event.ts_event_ms for e in sub.log.read(0, 100).entries] == [1, 2, 3]
    bk = books.get(A)
    assert bk is not None and bk.best_bid() == d("0.41") and bk.best_ask() == d("0.59")


def _files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


async def test_recording_in_shared_feed_mode_is_refused_with_what_to_do(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    from polymarket_realtime.recording.service import RecordingService

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    books, router = BookStore(), EventRouter()
    async with consumer(redis_server, books, router) as backend, anyio.create_task_group() as tg:
        service = RecordingService(recordings, backend, books)
        await service.start(tg)
        with pytest.raises(StateError, match="polymarket-realtime-mcp feed") as info:
            await service.start_recording(token_ids=["123"])
        assert info.value.state == "shared_feed"
        tg.cancel_scope.cancel()
    assert _files(recordings) == []  # nothing was created
