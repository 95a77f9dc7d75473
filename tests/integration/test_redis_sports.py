"""Sports scores through the shared feed: simulator -> feed process -> redis-server -> MCP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.sports import SPORTS_OBS_PATH
from tests.integration.test_redis_shared_feed import call, feeds_running, read_until, server_settings, sim_settings_for
from tests.redis_fixtures import RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]

NBA_GAME = "5127839"
NFL_SLUG = "sea-sf-2025-02-03"


async def test_sports_scores_through_the_shared_feed(redis_server: RedisServer, tmp_path: Path) -> None:
    config = SimulatorConfig(seed=4, markets=2, rate_per_s=5.0, resolve_after_s=None, sports_rate_per_s=0.0)
    async with Simulator(config) as sim:
        base = sim_settings_for(sim, tmp_path / "feed")
        async with feeds_running(base, redis_server.url) as feeds:
            feed = await feeds.start()
            server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
            async with Client(server) as client:
                sub = await call(client, "subscribe_sports_scores", {"leagues": ["NBA"]})
                # The feed process opens the sports socket for the lease; nothing is opened by the server.
                await sim.wait_until(lambda: len(sim.observed.open_on(SPORTS_OBS_PATH)) == 1, timeout=15)
                assert feed.interest.sports is True
                # Publish until one update of the NBA game arrives (the server joins the stream shortly after).
                nba_seen: list[dict[str, object]] = []

                def nba(events: list[dict[str, object]]) -> bool:
                    if not events:
                        sim.sports_update(NFL_SLUG)
                        sim.sports_update(NBA_GAME)
                    nba_seen[:] = [e for e in events if e["type"] == "sports_score"]
                    return bool(nba_seen)

                await read_until(client, sub["subscription_id"], 0, nba)
                assert {e["data"]["game_key"] for e in nba_seen} == {NBA_GAME}  # type: ignore[index]
                status = await call(client, "get_realtime_status", {})
                assert status["connections"]["sports"]["state"] == "connected"
                await call(client, "unsubscribe_realtime", {"subscription_id": sub["subscription_id"]})
                # The lease no longer wants sports: the feed process closes the socket.
                await sim.wait_until(lambda: not sim.observed.open_on(SPORTS_OBS_PATH), timeout=15)
