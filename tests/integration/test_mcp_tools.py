"""Every core tool through the SDK Client, in process (modern era), against the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.model.events import MarketResolved
from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import SimulatorConfig
from polymarket_realtime.venues.polymarket.rest import ClobRestClient

from ._mcp_harness import running

pytestmark = pytest.mark.anyio

CORE_TOOLS = {
    "search_markets",
    "get_market",
    "get_order_book",
    "subscribe_market_prices",
    "subscribe_orderbook_updates",
    "subscribe_market_resolution",
    "subscribe_reference_prices",
    "subscribe_crypto_prices",
    "subscribe_comments",
    "subscribe_sports_scores",
    "get_events",
    "get_realtime_status",
    "unsubscribe_realtime",
}


async def test_tools_are_listed_with_schemas_and_annotations(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        tools = {t.name: t for t in (await h.client.list_tools()).tools}
        assert set(tools) >= CORE_TOOLS
        for name in CORE_TOOLS:
            tool = tools[name]
            assert tool.description and len(tool.description) > 60, name
            assert tool.output_schema is not None, name
            assert tool.annotations is not None, name
        for name in ("search_markets", "get_market", "get_order_book", "get_events", "get_realtime_status"):
            assert tools[name].annotations.read_only_hint is True, name
        assert tools["subscribe_market_prices"].annotations.read_only_hint is False
        assert tools["unsubscribe_realtime"].annotations.destructive_hint is True
        assert "after_seq=next_seq" in (tools["subscribe_market_prices"].description or "")


async def test_search_and_get_market_by_every_kind_of_reference(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        market = h.market(0)
        found = await h.call("search_markets", {"query": market.question.split()[1], "limit": 10})
        assert found["count"] >= 1
        assert market.condition_id in {m["condition_id"] for m in found["markets"]}

        for ref in (market.slug, market.condition_id, market.token_ids[0], market.market_id):
            info = await h.call("get_market", {"market": ref})
            assert info["condition_id"] == market.condition_id, ref
            assert [o["token_id"] for o in info["outcomes"]] == list(market.token_ids)
            assert [o["name"] for o in info["outcomes"]] == [t.outcome for t in market.tokens]
            assert info["closed"] is False


async def test_get_market_unknown_and_malformed(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        text = await h.call_error("get_market", {"market": "no-such-market-slug"})
        assert "search_markets" in text
        text = await h.call_error("get_market", {"market": "Not A Slug!"})
        assert "not a market reference" in text


async def test_order_book_rest_snapshot_then_streamed(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        token = h.market(0).token_ids[0]
        book = await h.call("get_order_book", {"token_id": token, "depth": 5})
        assert book["source"] == "rest"
        assert 0 < len(book["bids"]) <= 5 and 0 < len(book["asks"]) <= 5
        bids = [Decimal(b["price"]) for b in book["bids"]]
        asks = [Decimal(a["price"]) for a in book["asks"]]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert Decimal(book["best_bid"]) == bids[0] < asks[0] == Decimal(book["best_ask"])

        sub = await h.call("subscribe_orderbook_updates", {"token_ids": [token], "depth": 3})
        events, _ = await h.events_until(sub["subscription_id"], lambda evs: any(e["type"] == "book" for e in evs))
        first_book = next(e for e in events if e["type"] == "book")
        assert first_book["token_id"] == token
        assert len(first_book["data"]["book"]["bids"]) <= 3
        live = await h.call("get_order_book", {"token_id": token})
        assert live["source"] == "ws" and live["stale"] is False


async def test_bad_inputs_are_actionable_errors(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        text = await h.call_error("get_order_book", {"token_id": "0xabc"})
        assert "not a token id" in text and "decimal" in text
        text = await h.call_error("subscribe_market_prices", {"token_ids": ["12x"]})
        assert "not a token id" in text
        text = await h.call_error("subscribe_market_prices", {})
        assert "at least one" in text
        text = await h.call_error("get_order_book", {"token_id": h.market(0).token_ids[0], "depth": 0})
        assert "depth must be between 1 and 100" in text

        sub = await h.call("subscribe_market_prices", {"token_ids": [h.market(0).token_ids[0]]})
        text = await h.call_error("get_events", {"subscription_id": "px_nope"})
        assert "px_nope" in text and sub["subscription_id"] in text  # lists the active ones
        text = await h.call_error("get_events", {"subscription_id": sub["subscription_id"], "limit": 5000})
        assert "limit must be between 1 and 1000" in text
        text = await h.call_error("unsubscribe_realtime", {})
        assert "all=true" in text
        text = await h.call_error("subscribe_crypto_prices", {"symbols": ["not a symbol!"]})
        assert "unknown crypto symbol" in text and "btcusd" in text
        text = await h.call_error("get_market", {"market": "x" * 5000})
        assert "at most 200 characters" in text and "x" * 300 not in text


async def test_future_cursor_long_poll_wakes_on_the_next_event(tmp_path: Path) -> None:
    """A cursor past the end re-anchors at the end and waits for the next event, not the whole wait_s."""
    async with running(tmp_path) as h:
        sub = await h.call("subscribe_market_prices", {"token_ids": [h.market(0).token_ids[0]]})
        _events, cursor = await h.events_until(sub["subscription_id"], lambda evs: len(evs) >= 1)
        page = await h.call("get_events", {"subscription_id": sub["subscription_id"], "after_seq": 10**9, "wait_s": 25})
        assert page["events"] and page["events"][0]["seq"] > cursor  # woke on new data, did not time out


async def test_order_book_falls_back_to_the_stale_stream_when_rest_is_down(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        token = h.market(0).token_ids[0]
        sub = await h.call("subscribe_orderbook_updates", {"token_ids": [token], "depth": 3})
        await h.events_until(sub["subscription_id"], lambda evs: any(e["type"] == "book" for e in evs))
        app = h.server.running_app()
        book = app.books.get(token)
        assert book is not None
        book.mark_stale("test: venue socket lost")
        live_rest = app.market.clob
        # REST unreachable from now on: a real client on a closed loopback port.
        async with ClobRestClient(h.settings.replace(clob_url="http://127.0.0.1:1", http_timeout_s=2.0)) as dead:
            app.market.clob = dead
            try:
                result = await h.call("get_order_book", {"token_id": token, "depth": 3})
            finally:
                app.market.clob = live_rest
        assert result["stale"] is True and result["source"] == "ws" and result["bids"]


async def test_prices_cursor_is_dense_without_duplicates(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        market = h.market(1)
        sub = await h.call("subscribe_market_prices", {"market_ids": [market.slug]})
        assert sorted(sub["token_ids"]) == sorted(market.token_ids)
        sid = sub["subscription_id"]
        events, cursor = await h.events_until(sid, lambda evs: len(evs) >= 30)
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1))
        assert cursor == seqs[-1]
        assert {e["type"] for e in events} <= {
            "price_change",
            "last_trade_price",
            "best_bid_ask",
            "tick_size_change",
            "feed_status",
        }
        assert all(e["token_id"] in market.token_ids for e in events if e["type"] != "feed_status")
        # Re-reading from an old cursor returns the same events again (idempotent reads).
        again = await h.call("get_events", {"subscription_id": sid, "after_seq": 0, "limit": 5})
        assert [e["seq"] for e in again["events"]] == [1, 2, 3, 4, 5]
        assert again["dropped"] == 0 and again["has_more"] is True


async def test_dropped_counts_with_a_tiny_buffer(tmp_path: Path) -> None:
    async with running(tmp_path, event_buffer_size=5) as h:
        sub = await h.call("subscribe_market_prices", {"token_ids": list(h.market(0).token_ids)})
        sid = sub["subscription_id"]
        app = h.server.running_app()
        log = app.router.get(sid).log
        await h.sim.wait_until(lambda: log.last_seq >= 20, timeout=10)
        page = await h.call("get_events", {"subscription_id": sid, "after_seq": 0, "limit": 100})
        first = page["events"][0]["seq"]
        assert page["dropped"] == first - 1 > 0
        assert len(page["events"]) <= 5
        assert [e["seq"] for e in page["events"]] == list(range(first, first + len(page["events"])))
        status = await h.call("get_realtime_status")
        active = {s["subscription_id"]: s for s in status["subscriptions"]["active"]}
        assert active[sid]["events_dropped"] > 0


async def test_long_poll_wakes_when_an_event_arrives(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=5, markets=3, rate_per_s=0.0, resolve_after_s=None)
    async with running(tmp_path, sim_config=config) as h:
        market = h.market(0)
        sub = await h.call("subscribe_market_prices", {"token_ids": [market.token_ids[0]]})
        sid = sub["subscription_id"]
        # Drain whatever the subscription produced so far (there may be nothing without a model tick).
        first = await h.call("get_events", {"subscription_id": sid, "after_seq": 0, "limit": 1000})
        cursor = first["next_seq"]
        result: dict[str, object] = {}

        async def poll() -> None:
            result.update(await h.call("get_events", {"subscription_id": sid, "after_seq": cursor, "wait_s": 20}))

        # The wait is 20 s; returning within 15 s proves the event woke the poller.
        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:
                tg.start_soon(poll)
                await anyio.wait_all_tasks_blocked()
                log = h.server.running_app().router.get(sid).log
                while log.last_seq <= cursor:
                    h.sim.move_price(market.condition_id, 4000 + log.last_seq * 100)
                    await h.sim.wait_until(lambda: log.last_seq > cursor, timeout=2)
        assert result["events"], "long-poll returned without events"


async def test_status_unsubscribe_and_idle_connections(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        status = await h.call("get_realtime_status")
        assert set(status["connections"]) >= {"market", "user", "rtds"}
        assert status["subscriptions"]["total"] == 0
        a = await h.call("subscribe_market_prices", {"token_ids": [h.market(0).token_ids[0]]})
        b = await h.call("subscribe_orderbook_updates", {"token_ids": [h.market(0).token_ids[0]]})
        await h.events_until(a["subscription_id"], lambda evs: any(e["type"] != "feed_status" for e in evs))
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 2
        assert status["connections"]["market"]["state"] == "connected"
        assert status["statistics"]["total_events"] > 0
        removed = await h.call("unsubscribe_realtime", {"subscription_id": a["subscription_id"]})
        assert removed == {"removed": [a["subscription_id"]], "remaining": [b["subscription_id"]]}
        text = await h.call_error("get_events", {"subscription_id": a["subscription_id"]})
        assert b["subscription_id"] in text
        removed = await h.call("unsubscribe_realtime", {"all": True})
        assert removed["remaining"] == []


async def test_resolution_from_the_venue_and_the_gamma_fallback(tmp_path: Path) -> None:
    async with running(tmp_path, resolution_poll_s=0.2) as h:
        m0, m1 = h.market(0), h.market(1)
        everything = await h.call("subscribe_market_resolution", {})
        assert everything["token_ids"] == []
        one = await h.call("subscribe_market_resolution", {"market_ids": [m1.condition_id]})
        await h.events_until(one["subscription_id"], lambda evs: True)  # subscription is live
        h.sim.resolve_market(m1.condition_id, winner=0)
        events, _ = await h.events_until(
            one["subscription_id"], lambda evs: any(e["type"] == "market_resolved" for e in evs)
        )
        resolved = [e for e in events if e["type"] == "market_resolved"]
        assert resolved[0]["data"]["market"] == m1.condition_id
        assert resolved[0]["data"]["winning_asset_id"] == m1.token_ids[0]
        # Exactly once per market, whichever source came first.
        app = h.server.running_app()
        watcher = app.resolution
        assert m1.condition_id in watcher.announced
        # Resolve the other market with the venue event suppressed: only the Gamma poll can report it.
        h.sim.model.resolve(m0.condition_id, 1)  # model only, no frames broadcast
        sub0 = await h.call("subscribe_market_resolution", {"market_ids": [m0.slug]})
        events, _ = await h.events_until(
            sub0["subscription_id"], lambda evs: any(e["type"] == "market_resolved" for e in evs)
        )
        gamma = [e for e in events if e["type"] == "market_resolved"]
        assert len(gamma) == 1 and gamma[0]["data"]["source"] == "gamma"
        # A late venue event for the same market is not delivered a second time.
        late = MarketResolved(
            market=m0.condition_id,
            market_id=m0.market_id,
            asset_ids=tuple(m0.token_ids),
            winning_asset_id=m0.token_ids[1],
            winning_outcome="No",
            source="ws",
        )
        assert app.router.route(late) == 0  # every resolution subscription already announced m0
        page = await h.call("get_events", {"subscription_id": sub0["subscription_id"], "after_seq": events[-1]["seq"]})
        assert not [e for e in page["events"] if e["type"] == "market_resolved"]


async def test_domain_errors_are_redacted_is_error_results(tmp_path: Path) -> None:
    secret = Secret("sk-test-0123456789abcdef")
    async with running(tmp_path) as h:

        @h.server.tool(description="test only")
        async def leaky() -> str:
            raise InvalidInputError(f"the key {secret.reveal()} was rejected; send another")

        text = await h.call_error("leaky")
        assert secret.reveal() not in text and "***" in text and "send another" in text


async def test_toolsets_filter_the_tool_list(tmp_path: Path) -> None:
    async with running(tmp_path, toolsets=frozenset({"market"})) as h:
        names = {t.name for t in (await h.client.list_tools()).tools}
        # enable_toolsets is there whenever some toolset is left out (tests/integration/test_toolsets.py).
        assert names == {"search_markets", "get_market", "get_order_book", "enable_toolsets"}
