"""Protocol conformance of the feed engine against the simulator over loopback (issue 2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.errors import AuthError, InvalidInputError, NotFoundError, VenueUnavailableError
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings

MARKET = "/ws/market"


@asynccontextmanager
async def feed(settings: Settings) -> AsyncIterator[WebSocketManager]:
    books = BookStore()
    router = EventRouter(books)
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
    ):
        yield manager


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(seed=3, markets=4, rate_per_s=40.0, resolve_after_s=None)) as simulator:
        yield simulator


def tokens(sim: Simulator, market: int) -> tuple[str, str]:
    return sim.model.markets[market].token_ids


@pytest.mark.anyio
async def test_initial_frame_array_dump_and_ping_cadence(sim: Simulator, tmp_path: Path) -> None:
    yes, no = tokens(sim, 0)
    async with feed(fast_settings(sim, tmp_path)) as manager:
        assert await manager.subscribe_assets([yes, no]) == [yes, no]
        await sim.wait_until(lambda: manager.books.get(yes) is not None and manager.books.get(no) is not None)
        (conn,) = sim.observed.on(MARKET)
        assert json.loads(conn.texts[0]) == {
            "type": "market",
            "assets_ids": [yes, no],
            "initial_dump": True,
            "custom_feature_enabled": True,
        }
        # Both books came in one array frame (the initial dump), best-first.
        book = manager.books.get(yes)
        assert book is not None and book.source == "ws" and not book.stale
        bids = book.bids()
        assert bids == sorted(bids, key=lambda lv: lv.price, reverse=True)
        await sim.wait_until(lambda: len(conn.pings) >= 4)
        gaps = [b - a for a, b in zip(conn.pings, conn.pings[1:], strict=False)]
        assert all(0.1 <= gap <= 1.0 for gap in gaps), gaps  # every 0.2 s, generously bounded
        assert "PING" in conn.texts
        assert sim.observed.opened[MARKET] == 1
        status = manager.status().as_dict()["connections"]["market"]
        assert status["state"] == "connected" and status["assets"] == 2 and status["url"].endswith("/ws/market")


@pytest.mark.anyio
async def test_dynamic_subscribe_unsubscribe_and_ref_counting(sim: Simulator, tmp_path: Path) -> None:
    a, _ = tokens(sim, 0)
    b, _ = tokens(sim, 1)
    async with feed(fast_settings(sim, tmp_path)) as manager:
        await manager.subscribe_assets([a])
        await sim.wait_until(lambda: manager.books.get(a) is not None)
        (conn,) = sim.observed.on(MARKET)
        # Two subscribers to b = one venue subscription.
        assert await manager.subscribe_assets([b]) == [b]
        assert await manager.subscribe_assets([b]) == []
        await sim.wait_until(lambda: b in conn.assets and manager.books.get(b) is not None)
        subscribes = [json.loads(t) for t in conn.texts if t.startswith('{"operation":"subscribe"')]
        assert subscribes == [{"operation": "subscribe", "assets_ids": [b], "custom_feature_enabled": True}]
        # First release: still held by the other subscriber, nothing sent.
        assert await manager.unsubscribe_assets([b]) == []
        # Last release: one unsubscribe frame, no reconnect.
        assert await manager.unsubscribe_assets([b]) == [b]
        await sim.wait_until(lambda: b not in conn.assets)
        unsubscribes = [json.loads(t) for t in conn.texts if t.startswith('{"operation":"unsubscribe"')]
        assert unsubscribes == [{"operation": "unsubscribe", "assets_ids": [b]}]
        assert manager.books.get(b) is None
        assert sim.observed.opened[MARKET] == 1 and conn.open
        # A price_change naming an unsubscribed sibling token never reaches the books.
        await sim.wait_until(lambda: manager.stats.events_by_type.get("price_change", 0) >= 3)
        assert manager.wanted_assets == frozenset({a})
        # Releasing the last asset of a shard closes its socket.
        await manager.unsubscribe_assets([a])
        await sim.wait_until(lambda: not conn.open)
        assert manager.status().as_dict()["connections"]["market"]["state"] == "idle"


@pytest.mark.anyio
async def test_unknown_token_and_invalid_operation_are_tolerated(sim: Simulator, tmp_path: Path) -> None:
    a, _ = tokens(sim, 0)
    async with feed(fast_settings(sim, tmp_path)) as manager:
        await manager.subscribe_assets([a])
        await sim.wait_until(lambda: manager.books.get(a) is not None)
        (conn,) = sim.observed.on(MARKET)
        unknown = "9" * 77
        await manager.subscribe_assets([unknown])  # the venue answers a bare []
        await sim.wait_until(lambda: unknown in conn.assets)
        await sim.broadcast_raw(MARKET, "INVALID OPERATION")
        await sim.wait_until(lambda: manager.stats.invalid_operations >= 1)
        before = manager.stats.total_events
        await sim.wait_until(lambda: manager.stats.total_events > before + 3)
        assert manager.stats.malformed_frames == 0
        assert sim.observed.opened[MARKET] == 1 and conn.open
        assert manager.books.get(unknown) is None
        # The REST fallback for the unknown token found nothing and did not break anything.
        await sim.wait_until(lambda: sim.observed.rest_requests["POST /books"] >= 1)


@pytest.mark.anyio
async def test_input_validation_and_missing_credentials(sim: Simulator, tmp_path: Path) -> None:
    async with feed(fast_settings(sim, tmp_path)) as manager:
        with pytest.raises(InvalidInputError, match="not a token id"):
            await manager.subscribe_assets(["0xabc"])
        with pytest.raises(AuthError, match="POLYGON_PRIVATE_KEY"):
            await manager.subscribe_user_markets([])
        assert manager.status().as_dict()["connections"]["market"]["state"] == "idle"  # nothing opened
    assert sim.observed.opened[MARKET] == 0


@pytest.mark.anyio
async def test_market_events_for_all_markets_are_deduplicated(sim: Simulator, tmp_path: Path) -> None:
    a, _ = tokens(sim, 0)
    async with feed(fast_settings(sim, tmp_path)) as manager:
        log = EventLog(100)
        manager.router.add(
            Subscription(
                "res", "resolution", frozenset(), frozenset(), frozenset({"new_market", "market_resolved"}), log=log
            )
        )
        await manager.subscribe_assets([a])
        await manager.subscribe_market_events()
        await sim.wait_until(
            lambda: len(sim.observed.open_on(MARKET)) == 2 and all(c.subscribed for c in sim.observed.open_on(MARKET))
        )
        events_conn = next(c for c in sim.observed.open_on(MARKET) if not c.assets)
        assert json.loads(events_conn.texts[0])["assets_ids"] == []
        sim.add_market()
        sim.resolve_market(sim.model.markets[0].condition_id, winner=0)
        with anyio.fail_after(10):
            while log.last_seq < 2:
                await log.wait(log.last_seq, 5)
        await sim.wait_until(lambda: manager.stats.duplicate_events >= 1)
        types = [e.event.type for e in log.read(0, 10).entries]
        assert sorted(types) == ["market_resolved", "new_market"]  # both sockets sent them; one delivery each
        await manager.unsubscribe_market_events()
        await sim.wait_until(lambda: not events_conn.open)


@pytest.mark.anyio
async def test_clob_rest_client(sim: Simulator, tmp_path: Path) -> None:
    yes, no = tokens(sim, 1)
    settings = fast_settings(sim, tmp_path)
    async with ClobRestClient(settings) as rest:
        book = await rest.get_book(yes)
        assert book.source == "rest" and book.asset_id == yes
        assert list(book.bids) == sorted(book.bids, key=lambda lv: lv.price, reverse=True)
        assert list(book.asks) == sorted(book.asks, key=lambda lv: lv.price)
        assert book.bids and book.asks and book.bids[0].price < book.asks[0].price
        books = await rest.get_books([yes, no, "9" * 70])
        assert sorted(b.asset_id for b in books) == sorted([yes, no])
        with pytest.raises(NotFoundError, match="No order book"):
            await rest.get_book("9" * 70)
        with pytest.raises(InvalidInputError):
            await rest.get_book("abc")
        assert await rest.get_price(yes, "BUY") == book.bids[0].price
        assert await rest.get_price(yes, "SELL") == book.asks[0].price
        assert await rest.get_midpoint(yes) == (book.bids[0].price + book.asks[0].price) / Decimal(2)
        assert abs(await rest.get_time() - sim.now_s()) < 5
    down = settings.replace(clob_url="http://127.0.0.1:9")
    async with ClobRestClient(down) as rest:
        with pytest.raises(VenueUnavailableError, match=r"127\.0\.0\.1:9"):
            await rest.get_time()


@pytest.mark.anyio
async def test_asset_added_while_the_shard_is_connecting_reaches_the_venue(sim: Simulator, tmp_path: Path) -> None:
    """A subscribe racing the handshake misses the initial frame; it must still be sent (not REST-frozen)."""
    first, _ = tokens(sim, 0)
    late, _ = tokens(sim, 1)
    async with feed(fast_settings(sim, tmp_path)) as manager:
        await manager.subscribe_assets([first])
        (conn,) = manager.connections()
        with anyio.fail_after(10):
            while conn.state != "connecting":  # yield to the connection task; no timed sleep
                await anyio.lowlevel.checkpoint()
        # The initial frame for [first] is built; the handshake is in flight.
        await manager.subscribe_assets([late])
        await sim.wait_until(lambda: {first, late} <= sim.observed.subscribed_assets())
        (venue_conn,) = sim.observed.on(MARKET)
        assert json.loads(venue_conn.texts[0])["assets_ids"] == [first]
        assert any(
            json.loads(t).get("operation") == "subscribe" and late in json.loads(t)["assets_ids"]
            for t in venue_conn.texts[1:]
            if t.startswith("{")
        )
        # The late book streams from the socket, not a one-off REST snapshot.
        sim.step(40)
        await sim.wait_until(lambda: (b := manager.books.get(late)) is not None and b.source == "ws" and not b.stale)
