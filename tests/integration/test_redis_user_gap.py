"""Shared feed: the feed process owns the user socket, so it also recovers the user-channel gap over REST."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from mcp import Client

from polymarket_realtime.config import TOOLSETS
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.app import create_server
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import Simulator
from tests.redis_fixtures import RedisServer, redis_server

from .test_redis_shared_feed import call, feeds_running, read_until, server_settings, sim_settings_for
from .test_user_channel import KEY, sim_config, statuses

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]


async def test_feed_process_recovers_trades_missed_while_the_user_socket_was_down(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with Simulator(sim_config()) as sim:
        base = sim_settings_for(sim, tmp_path / "feed").replace(private_key=Secret(KEY))
        async with feeds_running(base, redis_server.url) as feeds, httpx2.AsyncClient(timeout=10.0) as http:
            await feeds.start()
            settings = server_settings(base, redis_server, tmp_path / "s1").replace(toolsets=frozenset(TOOLSETS))
            server = create_server(settings, extensions=[EXTENSION])
            async with Client(server) as client:
                sub = (await call(client, "subscribe_user_trades", {}))["subscription_id"]
                await sim.wait_until(lambda: bool(sim.ws.user_connections()))

                sim.faults.refuse_connections(60)
                sim.faults.drop_all()
                await sim.wait_until(lambda: not sim.ws.user_connections())
                (trade_id,) = (await http.post(sim.rest_url + "/_sim/user/trade", json={})).json()["trade_ids"]
                await sim.wait_until(lambda: sim.user.pending == 0)
                (rows,) = sim.user.trades.values()
                final = rows[trade_id]["status"].removeprefix("TRADE_STATUS_")
                sim.faults.refuse_connections(0)

                events = await read_until(client, sub, 0, lambda ev: bool(statuses(ev, trade_id)))
                # A live lifecycle afterwards: the recovered trade is not delivered a second time.
                await sim.wait_until(lambda: bool(sim.ws.user_connections()))
                (live_id,) = (await http.post(sim.rest_url + "/_sim/user/trade", json={})).json()["trade_ids"]
                settled = {"CONFIRMED", "FAILED"}
                events += await read_until(
                    client, sub, events[-1]["seq"], lambda ev: bool(settled & set(statuses(ev, live_id)))
                )
    recovered = [e["data"] for e in events if e["type"] == "user_trade" and e["data"]["trade_id"] == trade_id]
    assert [(t["status"], t["source"]) for t in recovered] == [(final, "rest_reconcile")]
    assert {e["data"]["source"] for e in events if e["type"] == "user_trade" and e["data"]["trade_id"] == live_id} == {
        "ws"
    }
