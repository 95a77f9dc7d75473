"""Protocol V2 markets end to end: simulator (Gamma + CLOB + socket) -> our server -> the SDK Client.

The simulator's third market is V2: Gamma shows a 62-hex condition id, ``version: "v2"``,
``positionIds`` (75-digit ids) and ``clobTokenIds: null``; the CLOB and the socket carry the zero-padded
64-hex condition id and ``book`` frames with an extra ``"version": "v2"`` key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.simulator.gamma import market_json, set_gamma_override
from polymarket_realtime.simulator.rest_server import HttpRequest, HttpResponse, json_response
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.integration._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio


def _v2(h: Harness) -> Any:
    market = h.sim.model.markets[2]
    assert market.version == "v2" and len(market.gamma_condition_id) == 64 and market.condition_id.endswith("00")
    return market


async def _live_book(h: Harness, subscription_id: str, tokens: set[str]) -> list[dict[str, Any]]:
    events, _ = await h.events_until(
        subscription_id, lambda evs: tokens <= {e["token_id"] for e in evs if e["type"] == "book"}
    )
    return [e for e in events if e["type"] == "book"]


@pytest.mark.parametrize("ref", ["gamma_condition", "slug", "token"])
async def test_v2_market_streams_a_live_book_by_any_reference(tmp_path: Path, ref: str) -> None:
    async with running(tmp_path) as h:
        market = _v2(h)
        given = {"gamma_condition": market.gamma_condition_id, "slug": market.slug, "token": market.token_ids[1]}[ref]
        info = await h.call("get_market", {"market": given})
        assert info["version"] == "v2" and info["not_streamable"] is None
        assert info["condition_id"] == market.condition_id  # canonical: the CLOB's padded 64-hex form
        tokens = [o["token_id"] for o in info["outcomes"]]
        assert tokens == list(market.token_ids) and all(len(t) == 75 for t in tokens)
        args = {"token_ids": [given]} if ref == "token" else {"market_ids": [given]}
        sub = await h.call("subscribe_orderbook_updates", {**args, "depth": 5})
        books = await _live_book(h, sub["subscription_id"], {given} if ref == "token" else set(tokens))
        assert books and all(b["data"]["book"]["bids"] or b["data"]["book"]["asks"] for b in books)
        if ref != "token":
            assert sub["market_ids"] == [market.condition_id]
        # The REST snapshot of a V2 token (its body has the extra "version" key) reads too.
        rest = await h.call("get_order_book", {"token_id": tokens[0], "depth": 3})
        assert rest["bids"] and rest["token_id"] == tokens[0]


async def test_padded_condition_id_and_62_hex_join_the_same_market(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        market = _v2(h)
        narrow = await h.call("get_market", {"market": market.gamma_condition_id.upper().replace("0X", "0x")})
        padded = await h.call("get_market", {"market": market.condition_id})
        assert narrow["slug"] == padded["slug"] == market.slug
        sub = await h.call("subscribe_market_prices", {"market_ids": [market.gamma_condition_id, market.condition_id]})
        assert sub["market_ids"] == [market.condition_id] and sorted(sub["token_ids"]) == sorted(market.token_ids)


@pytest.mark.parametrize(
    "bad",
    [
        "0x" + "ab" * 30 + "a",  # 61 hex
        "0x" + "ab" * 31 + "a",  # 63 hex
        "0x" + "ab" * 32 + "a",  # 65 hex
        "0x" + "zz" * 31,  # 62 characters, not hex
        "0x" + "zz" * 32,  # 64 characters, not hex
    ],
)
async def test_malformed_condition_ids_are_refused_with_nothing_subscribed(tmp_path: Path, bad: str) -> None:
    async with running(tmp_path) as h:
        error = await h.call_error("subscribe_market_prices", {"market_ids": [bad]})
        assert "not a condition id" in error and "62" in error
        assert "search_markets" in await h.call_error("get_market", {"market": bad})
        assert h.server.running_app().router.list() == []
        assert not h.sim.observed.subscribed_assets()


async def test_market_of_an_unsupported_version_is_not_streamable_and_nothing_subscribes(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        market = h.sim.model.markets[0]

        def future_version(request: HttpRequest) -> HttpResponse | None:
            if request.path == f"/markets/slug/{market.slug}":
                return json_response({**market_json(market), "version": "v3"})
            return None

        set_gamma_override(h.sim.model, future_version)
        info = await h.call("get_market", {"market": market.slug})
        assert info["version"] == "v3" and info["outcomes"] == [] and "not streamable yet" in info["not_streamable"]
        error = await h.call_error("subscribe_orderbook_updates", {"market_ids": [market.slug]})
        assert "not streamable yet" in error and "Nothing was subscribed" in error
        assert h.server.running_app().router.list() == []


async def test_v2_resolution_from_resolution_status_reaches_a_resolution_subscription(tmp_path: Path) -> None:
    async with running(tmp_path, resolution_poll_s=0.05) as h:
        market = _v2(h)
        sub = await h.call("subscribe_market_resolution", {"market_ids": [market.gamma_condition_id]})
        h.sim.model.resolve(market.condition_id, winner=1)  # Gamma only: no venue event is broadcast
        h.server.running_app().gamma._cache.clear()
        events, _ = await h.events_until(
            sub["subscription_id"], lambda evs: any(e["type"] == "market_resolved" for e in evs)
        )
        [resolved] = [e for e in events if e["type"] == "market_resolved"]
        assert resolved["data"]["market"] == market.condition_id
        assert resolved["data"]["winning_asset_id"] == market.token_ids[1]
        assert resolved["data"]["source"] == "gamma"


async def test_no_tool_calls_an_offset_gamma_list(tmp_path: Path) -> None:
    async with running(tmp_path, resolution_poll_s=0.05) as h:
        v1, v2 = h.sim.model.markets[0], _v2(h)
        await h.call("search_markets", {"query": v2.question})
        await h.call("search_markets", {"query": v1.slug, "active_only": False})
        for ref in (v1.slug, v1.condition_id, v1.token_ids[0], v1.market_id, v2.token_ids[0], v2.gamma_condition_id):
            await h.call("get_market", {"market": ref})
        await h.call("subscribe_market_resolution", {})
        await h.call("subscribe_market_resolution", {"market_ids": [v1.condition_id]})
        await h.call("subscribe_market_prices", {"market_ids": [v2.slug]})
        start = _watcher(h).polls
        await h.sim.wait_until(lambda: _watcher(h).polls >= start + 2, timeout=10)  # the fallback polls ran
        requests = h.sim.observed.rest_requests
        assert requests["GET /markets/keyset"] > 0
        assert requests["GET /markets"] == 0 and requests["GET /events"] == 0


def _watcher(h: Harness) -> Any:

    return h.server.running_app().resolution


async def test_rest_book_of_a_v2_token_with_its_version_key(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        market = _v2(h)
        raw = h.sim.model.rest_book(market.token_ids[0])
        assert raw is not None and raw["version"] == "v2" and raw["market"] == market.condition_id
        async with ClobRestClient(h.settings) as rest:
            book = await rest.get_book(market.token_ids[0])
            [batch] = await rest.get_books([market.token_ids[1]])
        assert book.asset_id == market.token_ids[0] and book.market == market.condition_id and book.bids
        assert batch.asset_id == market.token_ids[1] and batch.asks
