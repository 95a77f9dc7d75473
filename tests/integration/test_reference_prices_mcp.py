"""Reference-price tools (PolyBolt) end to end through MCP against the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import SimAccount, SimulatorConfig
from polymarket_realtime.simulator.polybolt import OBSERVED_PATH

from ._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        seed=5,
        markets=2,
        rate_per_s=5.0,
        resolve_after_s=None,
        rtds_rate_per_s=20.0,
        polybolt_rate_per_s=20.0,
        account=SimAccount(lifecycle_every_s=None),
    )


async def test_crypto_shortcut_streams_reference_prices_from_polybolt_not_rtds(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), private_key=Secret(KEY)) as h:
        sub = await h.call("subscribe_crypto_prices", {"symbols": ["BTC", "btcusdt", "btc/usd"]})
        assert sub["subscription_id"].startswith("rp_")
        events, _ = await h.events_until(
            sub["subscription_id"],
            lambda evs: any(e["type"] == "reference_price" and not e["data"]["snapshot"] for e in evs),
        )
        prices = [e for e in events if e["type"] == "reference_price"]
        assert {(e["data"]["channel"], e["data"]["symbol"]) for e in prices} == {("crypto", "btcusd")}
        assert prices[0]["data"]["snapshot"] is True  # seeded from the snapshot first
        assert all(Decimal(e["data"]["value"]) > 0 and e["data"]["source"] == "pyth" for e in prices)
        equity = await h.call(
            "subscribe_reference_prices", {"symbols": ["AAPL"], "channel": "equity", "provider": "chainlink"}
        )
        events, _ = await h.events_until(
            equity["subscription_id"], lambda evs: any(e["type"] == "reference_price" for e in evs)
        )
        assert {e["data"]["source"] for e in events if e["type"] == "reference_price"} == {"chainlink"}
        status = await h.call("get_realtime_status")
        polybolt = status["connections"]["polybolt"]
        assert polybolt["auth"] == "authed" and polybolt["assets"] == 2 and polybolt["seq_gaps"] == 0
        # One PolyBolt socket; no price subscription ever reached RTDS (nothing even connected there).
        assert len(h.sim.observed.on(OBSERVED_PATH)) == 1
        assert not any("price" in topic for obs in h.sim.observed.on("/") for topic, _ in obs.topics)


async def test_without_credentials_the_tool_names_the_variables(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config()) as h:
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["btcusd"]})
        for variable in ("POLYGON_PRIVATE_KEY", "POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_PASSPHRASE"):
            assert variable in text
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 0
        assert status["connections"]["polybolt"]["credentials"] == "missing"
        assert h.sim.observed.on(OBSERVED_PATH) == []


async def test_bad_input_is_a_clear_error_with_nothing_changed(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), private_key=Secret(KEY)) as h:
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["btcusd", "nosuchcoin"]})
        assert "nosuchcoin" in text and "btcusd, ethusd, solusd, dogeusd, xrpusd, bnbusd" in text
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["aapl"], "channel": "crypto"})
        assert "unknown crypto symbol 'aapl'" in text
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["btcusd"], "provider": "pyth"})
        assert "equity channels only" in text
        text = await h.call_error("subscribe_crypto_prices", {"symbols": ["btc/eur"]})
        assert "btc/eur" in text
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 0 and status["connections"]["polybolt"]["assets"] == 0
        assert h.sim.observed.on(OBSERVED_PATH) == []


def _polybolt_states(h: Harness) -> set[str]:
    return {c.state for c in h.server.running_app().feed.polybolt.connections.values()}


async def test_after_refused_credentials_a_new_subscription_is_refused_with_advice(tmp_path: Path) -> None:
    bad = {"api_key": Secret("k-1"), "api_secret": Secret("c2VjcmV0LXdyb25n"), "passphrase": Secret("p-1")}
    async with running(tmp_path, sim_config=sim_config(), **bad) as h:
        first = await h.call("subscribe_crypto_prices", {"symbols": ["btc"]})  # answered before the venue refuses
        await h.events_until(
            first["subscription_id"],
            lambda evs: any(e["type"] == "feed_status" and e["data"]["state"] == "auth_failed" for e in evs),
        )
        await h.sim.wait_until(lambda: _polybolt_states(h) == {"failed"})
        before = (await h.call("get_realtime_status"))["subscriptions"]["total"]
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["ethusd"]})
        assert "refused the credentials" in text and "POLYGON_PRIVATE_KEY" in text and "doctor" in text
        assert "c2VjcmV0LXdyb25n" not in text
        text = await h.call_error("subscribe_crypto_prices", {"symbols": ["btc"]})
        assert "refused the credentials" in text
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == before and status["connections"]["polybolt"]["assets"] == 1


async def test_after_a_4008_stop_a_new_subscription_says_the_feed_is_stopped(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), private_key=Secret(KEY)) as h:
        first = await h.call("subscribe_crypto_prices", {"symbols": ["btc"]})
        await h.events_until(first["subscription_id"], lambda evs: any(e["type"] == "reference_price" for e in evs))
        h.sim.polybolt.close_all(4008, "policy")
        await h.sim.wait_until(lambda: _polybolt_states(h) == {"failed"})
        text = await h.call_error("subscribe_reference_prices", {"symbols": ["ethusd"]})
        assert "polybolt-0 is stopped" in text and "4008" in text and "restart the server" in text
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 1 and status["connections"]["polybolt"]["assets"] == 1
