"""The simulator speaks the market-channel protocol, CLOB/Gamma REST and fault injection (raw clients)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import anyio
import httpx2
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polymarket_realtime.simulator import BookSource, OutFrame, Simulator, SimulatorConfig, frames_from_venue_text
from polymarket_realtime.simulator.market_model import MarketModel

pytestmark = pytest.mark.anyio


async def _recv(ws: ClientConnection, limit_s: float = 5.0) -> str:
    with anyio.fail_after(limit_s):
        message = await ws.recv()
    assert isinstance(message, str)
    return message


async def _recv_json(ws: ClientConnection, limit_s: float = 5.0) -> Any:
    return json.loads(await _recv(ws, limit_s))


async def _closed(ws: ClientConnection) -> ConnectionClosed:
    """Read until the connection closes; return the closing exception."""
    with anyio.fail_after(5):
        while True:
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                return exc


async def _market(sim: Simulator, assets: list[str], **extra: Any) -> ClientConnection:
    ws = await websockets.connect(sim.ws_url + "/market", compression=None, max_size=2**24, max_queue=None)
    await ws.send(json.dumps({"type": "market", "assets_ids": assets, **extra}))
    return ws


def _prices(levels: list[dict[str, str]]) -> list[Decimal]:
    return [Decimal(level["price"]) for level in levels]


async def test_initial_dump_is_one_array_of_books_in_venue_order(simulator: Simulator) -> None:
    simulator.pause()
    market = simulator.model.markets[0]
    yes, no = market.token_ids
    ws = await _market(simulator, [yes, no])
    try:
        dump = await _recv_json(ws)
    finally:
        await ws.close()
    assert isinstance(dump, list) and [b["event_type"] for b in dump] == ["book", "book"]
    assert [b["asset_id"] for b in dump] == [yes, no]
    for book in dump:
        bids, asks = _prices(book["bids"]), _prices(book["asks"])
        assert bids == sorted(bids) and asks == sorted(asks, reverse=True)  # best is LAST on both sides
        assert 10 <= len(bids) <= 30 and 10 <= len(asks) <= 30
        assert bids[-1] < asks[-1]
        assert book["market"] == market.condition_id and len(book["hash"]) == 40
        assert book["timestamp"].isdigit() and len(book["timestamp"]) == 13  # ms string
        assert book["tick_size"] == "0.01"
    # YES and NO are complementary: NO best bid = 1 - YES best ask.
    assert _prices(dump[1]["bids"])[-1] == 1 - _prices(dump[0]["asks"])[-1]


async def test_ping_pong_and_invalid_operations(simulator: Simulator) -> None:
    token = simulator.model.markets[0].token_ids[0]
    bad_first_frames = [
        "{not json",
        json.dumps({"type": "market", "asset_ids": [token]}),  # the classic typo
        json.dumps({"assets_ids": [token]}),  # no type on the first frame
        json.dumps({"operation": "subscribe", "assets_ids": [token]}),  # operation before subscribing
    ]
    for frame in bad_first_frames:
        async with websockets.connect(simulator.ws_url + "/market") as ws:
            await ws.send("PING")
            assert await _recv(ws) == "PONG"
            await ws.send(frame)
            assert await _recv(ws) == "INVALID OPERATION"
    assert sum(c.invalid_operations for c in simulator.observed.on("/ws/market")) == 4
    assert all(c.pings for c in simulator.observed.on("/ws/market"))


async def test_unknown_tokens_get_bare_empty_array(simulator: Simulator) -> None:
    ws = await _market(simulator, ["123", "456"])
    try:
        assert await _recv(ws) == "[]"
    finally:
        await ws.close()


async def test_initial_dump_false_sends_no_books(simulator: Simulator) -> None:
    simulator.pause()
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]], initial_dump=False)
    try:
        await ws.send("PING")
        assert await _recv(ws) == "PONG"
    finally:
        await ws.close()


def _expected(frames: list[Any], assets: set[str]) -> list[str]:
    return [f.text for f in frames if f.audience == "assets" and assets.intersection(f.asset_ids)]


async def test_dynamic_subscribe_and_unsubscribe_change_the_stream(simulator: Simulator) -> None:
    simulator.pause()
    m0, m1 = simulator.model.markets[0], simulator.model.markets[1]
    ws = await _market(simulator, [m0.token_ids[0]])
    try:
        assert len(await _recv_json(ws)) == 1
        await ws.send(json.dumps({"operation": "subscribe", "assets_ids": [m1.token_ids[0]]}))
        added = await _recv_json(ws)
        assert [b["asset_id"] for b in added] == [m1.token_ids[0]]
        await ws.send(json.dumps({"operation": "unsubscribe", "assets_ids": [m0.token_ids[0]]}))
        conn = simulator.observed.last("/ws/market")
        assert conn is not None
        await simulator.wait_until(lambda: conn.assets == {m1.token_ids[0]})
        expected = _expected(simulator.step(300), {m1.token_ids[0]})
        assert expected
        received = [await _recv(ws) for _ in expected]
        assert received == expected
        assert all(json.loads(text)["market"] == m1.condition_id for text in received)
    finally:
        await ws.close()


async def test_price_change_carries_both_tokens_and_best_prices(simulator: Simulator) -> None:
    simulator.pause()
    market = simulator.model.markets[0]
    ws = await _market(simulator, [market.token_ids[0]])
    try:
        await _recv_json(ws)
        for _ in range(200):
            simulator.step(5)
            event = await _recv_json(ws)
            if event["event_type"] == "price_change":
                break
        assert event["event_type"] == "price_change"
        changes = event["price_changes"]
        assert {c["asset_id"] for c in changes} == set(market.token_ids)
        yes = next(c for c in changes if c["asset_id"] == market.token_ids[0])
        no = next(c for c in changes if c["asset_id"] == market.token_ids[1])
        assert Decimal(yes["price"]) + Decimal(no["price"]) == 1 and yes["side"] != no["side"]
        assert Decimal(yes["best_bid"]) < Decimal(yes["best_ask"])
        assert event["timestamp"].isdigit()
    finally:
        await ws.close()


async def test_custom_feature_events(simulator: Simulator) -> None:
    simulator.pause()
    market = simulator.model.markets[0]
    ws = await _market(simulator, [market.token_ids[0]], custom_feature_enabled=True)
    plain = await _market(simulator, [market.token_ids[0]])
    try:
        await _recv_json(ws)
        await _recv_json(plain)
        simulator.move_price(market.condition_id, 9_800)  # crosses 0.96: best_bid_ask + tick_size_change
        seen: dict[str, dict[str, Any]] = {}
        while "tick_size_change" not in seen:
            event = await _recv_json(ws)
            seen.setdefault(event["event_type"], event)
        assert seen["tick_size_change"]["old_tick_size"] == "0.01"
        assert seen["tick_size_change"]["new_tick_size"] == "0.001"
        assert seen["best_bid_ask"]["asset_id"] == market.token_ids[0]
        simulator.add_market()
        new_market = await _recv_json(ws)
        assert new_market["event_type"] == "new_market" and len(new_market["assets_ids"]) == 2
        simulator.resolve_market(market.condition_id, winner=0)
        resolved = await _recv_json(ws)
        assert resolved["event_type"] == "market_resolved"
        assert resolved["winning_asset_id"] == market.token_ids[0]
        empty = await _recv_json(ws)
        assert empty["event_type"] == "book" and empty["bids"] == [] and empty["asks"] == []
        # Without custom features: no best_bid_ask / new_market / market_resolved.
        types = set()
        while True:
            event = await _recv_json(plain)
            types.add(event["event_type"])
            if event["event_type"] == "book":
                break
        assert types.isdisjoint({"best_bid_ask", "new_market", "market_resolved"})
    finally:
        await ws.close()
        await plain.close()


async def test_model_is_deterministic_per_seed() -> None:
    def run(seed: int) -> tuple[list[str], list[str]]:
        model = MarketModel(seed=seed, markets=3, now_ms=lambda: 1_700_000_000_000)
        return [m.condition_id for m in model.markets], [f.text for f in model.step(100)]

    assert run(3) == run(3)
    assert run(3)[0] != run(4)[0]


# ---------------------------------------------------------------------------- faults


async def test_drop_all_aborts_without_close_frame(simulator: Simulator) -> None:
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    await _recv_json(ws)
    assert simulator.faults.drop_all() == 1
    assert (await _closed(ws)).rcvd is None  # no close handshake


async def test_close_1008_via_control_api(simulator: Simulator) -> None:
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    await _recv_json(ws)
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        response = await client.post("/_sim/fault", json={"kind": "close_1008"})
        assert response.status_code == 200
        bad = await client.post("/_sim/fault", json={"kind": "nope"})
        assert bad.status_code == 400
    closed = await _closed(ws)
    assert closed.rcvd is not None and closed.rcvd.code == 1008


async def test_go_silent_still_answers_ping(simulator: Simulator) -> None:
    simulator.pause()
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    try:
        await _recv_json(ws)
        simulator.faults.go_silent()
        assert simulator.step(100)
        await ws.send("PING")
        assert await _recv(ws) == "PONG"  # nothing else was sent in between
        simulator.faults.go_silent(False)
        expected = _expected(simulator.step(100), {simulator.model.markets[0].token_ids[0]})
        assert expected and await _recv(ws) == expected[0]
    finally:
        await ws.close()


async def test_malformed_unknown_and_oversize_frames(simulator: Simulator) -> None:
    simulator.pause()
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    try:
        await _recv_json(ws)
        simulator.faults.send_malformed()
        with pytest.raises(ValueError):
            json.loads(await _recv(ws))
        simulator.faults.send_unknown_event()
        assert (await _recv_json(ws))["event_type"] == "sim_unknown_event"
        simulator.faults.send_oversize(nbytes=300_000)
        assert len(await _recv(ws)) >= 300_000
    finally:
        await ws.close()
    kinds = [kind for _, kind in simulator.observed.faults]
    assert kinds == ["send_malformed", "send_unknown_event", "send_oversize:300000"]


async def test_channel_path_is_required(simulator: Simulator) -> None:
    with pytest.raises(InvalidStatus) as caught:
        # ".../ws/" without a channel is a 404 [docs/polymarket-protocol.md#hosts]
        await websockets.connect(simulator.ws_url + "/")
    assert caught.value.response.status_code == 404


async def test_refuse_connections_then_recover(simulator: Simulator) -> None:
    simulator.faults.refuse_connections(30)
    with pytest.raises(InvalidStatus) as caught:
        await websockets.connect(simulator.ws_url + "/market")
    assert caught.value.response.status_code == 503
    assert simulator.observed.refused == 1
    simulator.faults.refuse_connections(0)
    async with websockets.connect(simulator.ws_url + "/market") as ws:
        await ws.send("PING")
        assert await _recv(ws) == "PONG"


async def test_delayed_initial_dump_arrives_after_pong(simulator: Simulator) -> None:
    simulator.faults.delay_initial_dump(0.3)
    started = time.monotonic()
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    try:
        await ws.send("PING")
        assert await _recv(ws) == "PONG"  # PING is answered while the dump is held back
        dump = await _recv_json(ws)
        assert isinstance(dump, list) and dump[0]["event_type"] == "book"
        assert time.monotonic() - started >= 0.3
    finally:
        await ws.close()


async def test_broadcast_raw_and_wait_until(simulator: Simulator) -> None:
    ws = await _market(simulator, [simulator.model.markets[0].token_ids[0]])
    try:
        await _recv_json(ws)
        assert await simulator.broadcast_raw("/ws/market", '{"event_type":"custom"}') == 1
        while await _recv(ws) != '{"event_type":"custom"}':
            pass
        await ws.send("PING")
        await simulator.wait_until(lambda: bool(simulator.observed.on("/ws/market")[0].pings))
    finally:
        await ws.close()
    await simulator.wait_until(lambda: not simulator.observed.open_on("/ws/market"))
    assert simulator.observed.opened["/ws/market"] == 1


# ---------------------------------------------------------------------------- CLOB REST


async def test_clob_rest_book_price_midpoint_time(simulator: Simulator) -> None:
    simulator.pause()
    market = simulator.model.markets[1]
    yes = market.token_ids[0]
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        book = (await client.get("/book", params={"token_id": yes})).json()
        assert list(book) == [
            "market",
            "asset_id",
            "timestamp",
            "hash",
            "bids",
            "asks",
            "min_order_size",
            "tick_size",
            "neg_risk",
            "last_trade_price",
        ]
        bids, asks = _prices(book["bids"]), _prices(book["asks"])
        assert bids == sorted(bids) and asks == sorted(asks, reverse=True)
        missing = await client.get("/book", params={"token_id": "42"})
        assert missing.status_code == 404
        assert missing.json() == {"error": "No orderbook exists for the requested token id"}
        books = (await client.post("/books", json=[{"token_id": t} for t in market.token_ids])).json()
        assert [b["asset_id"] for b in books] == list(market.token_ids)
        buy = (await client.get("/price", params={"token_id": yes, "side": "BUY"})).json()
        sell = (await client.get("/price", params={"token_id": yes, "side": "SELL"})).json()
        assert Decimal(buy["price"]) == bids[-1] and Decimal(sell["price"]) == asks[-1]
        mid = (await client.get("/midpoint", params={"token_id": yes})).json()
        assert Decimal(mid["mid"]) == (bids[-1] + asks[-1]) / 2
        tick = (await client.get("/tick-size", params={"token_id": yes})).json()
        assert tick == {"minimum_tick_size": 0.01}
        server_time = int((await client.get("/time")).text)
        assert abs(server_time - time.time()) < 5


async def test_time_offset_skews_server_time() -> None:
    config = SimulatorConfig(rate_per_s=0, time_offset_s=-1000, rtds_rate_per_s=0)
    async with Simulator(config) as sim, httpx2.AsyncClient(base_url=sim.rest_url) as client:
        server_time = int((await client.get("/time")).text)
    assert 990 < time.time() - server_time < 1010


# ---------------------------------------------------------------------------- Gamma


async def test_gamma_markets_use_json_encoded_string_fields(simulator: Simulator) -> None:
    market = simulator.model.markets[1]  # a V1 market (the third is Protocol V2, see test_sim_gamma_v2)
    assert market.version == "v1"
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        offset_list = await client.get("/markets", params={"limit": 10})
        listed = offset_list.json()
        assert len(listed) == 4
        # The offset list still answers, marked deprecated as Gamma does.
        assert offset_list.headers["deprecation"] == "true" and "/markets/keyset" in offset_list.headers["warning"]
        by_token = (await client.get("/markets", params={"clob_token_ids": market.token_ids[1]})).json()
        assert [m["conditionId"] for m in by_token] == [market.condition_id]
        one = by_token[0]
        assert isinstance(one["outcomes"], str) and json.loads(one["outcomes"]) == ["Yes", "No"]
        assert json.loads(one["clobTokenIds"]) == list(market.token_ids)
        prices = json.loads(one["outcomePrices"])
        assert sum(Decimal(p) for p in prices) == 1
        assert one["closed"] is False and one["enableOrderBook"] is True
        assert (await client.get(f"/markets/{market.market_id}")).json()["slug"] == market.slug
        assert (await client.get(f"/markets/slug/{market.slug}")).json()["id"] == market.market_id
        assert (await client.get("/markets", params={"slug": market.slug})).json()[0]["id"] == market.market_id
        by_condition = await client.get("/markets", params={"condition_ids": market.condition_id})
        assert by_condition.json()[0]["slug"] == market.slug
        events = (await client.get("/events")).json()
        assert any(market.condition_id in [m["conditionId"] for m in e["markets"]] for e in events)
        event = (await client.get(f"/events/{market.event_id}")).json()
        assert event["id"] == market.event_id
        word = market.question.split()[1]
        found = (await client.get("/public-search", params={"q": word})).json()
        assert set(found) == {"events", "tags", "profiles", "pagination"}
        assert any(m["slug"] == market.slug for e in found["events"] for m in e["markets"])

        simulator.resolve_market(market.condition_id, winner=1)
        default = (await client.get("/markets")).json()
        assert market.condition_id not in [m["conditionId"] for m in default]  # closed=false by default
        closed = (await client.get("/markets", params={"closed": "true"})).json()
        resolved = next(m for m in closed if m["conditionId"] == market.condition_id)
        assert json.loads(resolved["outcomePrices"]) == ["0", "1"]
        assert resolved["umaResolutionStatus"] == "resolved"


# ---------------------------------------------------------------------------- pluggable sources


class _ReplaySource:
    """A minimal recording replay: frames due at recorded offsets, books from the recording's dump."""

    def __init__(self, books: dict[str, dict[str, Any]], timed: list[tuple[float, str]]) -> None:
        self.books = books
        self.timed = timed

    def poll(self, sim_time_s: float) -> list[OutFrame]:
        due = [text for at, text in self.timed if at <= sim_time_s]
        self.timed = self.timed[len(due) :]
        return [frame for text in due for frame in frames_from_venue_text("market", text)]

    def is_known(self, asset_id: str) -> bool:
        return asset_id in self.books

    def book_event(self, asset_id: str) -> dict[str, Any] | None:
        return self.books.get(asset_id)

    def rest_book(self, asset_id: str) -> dict[str, Any] | None:
        return self.books.get(asset_id)


async def test_a_replay_source_plugs_into_the_server() -> None:
    model = MarketModel(seed=5, markets=2, now_ms=lambda: 1_700_000_000_000)
    token = model.markets[0].token_ids[0]
    books = {token: model.book_event(token) or {}}
    recorded = [f.text for f in model.step(60) if token in f.asset_ids and f.audience == "assets"]
    source = _ReplaySource(books, [(0.01 * i, text) for i, text in enumerate(recorded)])
    assert isinstance(source, BookSource)
    async with Simulator(SimulatorConfig(rate_per_s=0, rtds_rate_per_s=0), source=source) as sim:
        ws = await _market(sim, [token])
        try:
            assert await _recv_json(ws) == [books[token]]
            replayed = [await _recv(ws) for _ in recorded]
        finally:
            await ws.close()
    assert replayed == recorded


def test_frames_from_venue_text_routes_by_event() -> None:
    change = '{"event_type":"price_change","market":"0x1","price_changes":[{"asset_id":"1"},{"asset_id":"2"}]}'
    (frame,) = frames_from_venue_text("market", change)
    assert frame.asset_ids == ("1", "2") and frame.market == "0x1" and frame.text == change
    dump = frames_from_venue_text("market", '[{"event_type":"book","asset_id":"1"},{"event_type":"best_bid_ask"}]')
    assert [f.audience for f in dump] == ["assets", "assets_custom"]
    assert frames_from_venue_text("market", "PONG") == []
    (rtds,) = frames_from_venue_text("rtds", '{"topic":"comments","type":"comment_created","payload":{}}')
    assert (rtds.topic, rtds.event_type) == ("comments", "comment_created")


def test_model_books_never_cross_and_stay_within_limits() -> None:
    model = MarketModel(seed=11, markets=6, now_ms=lambda: 1_700_000_000_000)
    for _ in range(40):
        model.step(100)
        for market in model.active_markets():
            bid, ask = market.best_bid(), market.best_ask()
            assert bid is not None and ask is not None and 0 < bid < ask < 10_000
            assert len(market.bids) <= 30 and len(market.asks) <= 30
            assert all(size > 0 for size in (*market.bids.values(), *market.asks.values()))
