"""PolyBolt reference prices through the shared feed: one upstream subscription for two servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator
from polymarket_realtime.simulator.polybolt import DEVELOPMENT_KEY, OBSERVED_PATH
from tests.redis_fixtures import RedisServer, redis_server

from .test_redis_shared_feed import call, feeds_running, read_until, server_settings, sim_settings_for, simulator

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server", "simulator"]


def _live_btc(events: list[dict[str, Any]]) -> bool:
    return any(e["type"] == "reference_price" and not e["data"]["snapshot"] for e in events)


async def test_two_servers_share_one_polybolt_subscription(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    # The feed process holds the account credentials (PolyBolt authenticates with them); servers hold none.
    feed_settings = sim_settings_for(simulator, tmp_path / "feed").replace(private_key=Secret(DEVELOPMENT_KEY))
    plain = sim_settings_for(simulator, tmp_path / "srv")
    async with feeds_running(feed_settings, redis_server.url) as feeds:
        await feeds.start()
        one = create_server(server_settings(plain, redis_server, tmp_path / "s1"), extensions=[])
        two = create_server(server_settings(plain, redis_server, tmp_path / "s2"), extensions=[])
        async with Client(one) as c1, Client(two) as c2:
            sub1 = (await call(c1, "subscribe_crypto_prices", {"symbols": ["btc"]}))["subscription_id"]
            sub2 = (await call(c2, "subscribe_reference_prices", {"symbols": ["btcusd"]}))["subscription_id"]
            first = await read_until(c1, sub1, 0, _live_btc)
            second = await read_until(c2, sub2, 0, _live_btc)
            status = await call(c1, "get_realtime_status", {})
        for events in (first, second):
            prices = [e for e in events if e["type"] == "reference_price"]
            assert {(e["data"]["channel"], e["data"]["symbol"]) for e in prices} == {("crypto", "btcusd")}
        # One authenticated PolyBolt socket upstream, holding one subscription for both servers.
        (upstream,) = simulator.observed.on(OBSERVED_PATH)
        assert upstream.authenticated
        assert simulator.polybolt.subscriptions() == [{("price.crypto", "btcusd", "")}]
        assert status["connections"]["polybolt"]["state"] == "connected"
