"""The sports socket end to end against the simulator: heartbeat, routing with filters, bad input, reconnect."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import anyio
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.sports import SPORTS_OBS_PATH
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.integration._mcp_harness import running
from tests.sim_settings import fast_settings

pytestmark = pytest.mark.anyio

NBA_GAME = "5127839"
NHL_GAME = "5127840"
NFL_SLUG = "sea-sf-2025-02-03"
EPL_SLUG = "ars-che-2025-02-03"
# Fast heartbeat: a ping every 0.1 s, the connection closed when a pong is 1 s late (the simulator and
# the client share one event loop, so a tighter deadline could trip on a stall of a loaded machine).
FAST = SimulatorConfig(
    seed=5,
    markets=2,
    rate_per_s=5.0,
    resolve_after_s=None,
    rtds_rate_per_s=0.0,
    sports_rate_per_s=0.0,
    sports_ping_interval_s=0.1,
    sports_pong_timeout_s=1.0,
)


async def _read_pings_until_closed(ws: ClientConnection) -> None:
    while True:
        assert await ws.recv() == "ping"  # pings keep coming until the pong deadline passes


async def test_simulator_pings_and_closes_a_client_that_does_not_answer() -> None:
    async with Simulator(FAST) as sim, websockets.connect(sim.sports_url) as ws:
        with anyio.fail_after(5):
            assert await ws.recv() == "ping"  # the server starts the heartbeat, no subscription needed
        with anyio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
            await _read_pings_until_closed(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert sim.sports.closed_for_no_pong == 1 and sim.sports.pongs_received == 0
        await sim.wait_until(lambda: not sim.observed.open_on(SPORTS_OBS_PATH), timeout=5)


async def test_manager_answers_every_ping_so_the_socket_stays_open(tmp_path: Path) -> None:
    async with Simulator(FAST) as sim:
        settings = fast_settings(sim, tmp_path)
        books = BookStore()
        router = EventRouter(books)
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(1)) as manager,
        ):
            await manager.subscribe_sports()
            # 25 pings take 2.5 s, more than twice the simulator's 1 s pong deadline.
            await sim.wait_until(lambda: sim.sports.pongs_received >= 25, timeout=15)
            assert sim.sports.closed_for_no_pong == 0
            (conn,) = sim.observed.on(SPORTS_OBS_PATH)  # one connection the whole time: never dropped
            assert conn.open
            assert set(conn.texts) == {"pong"}  # no subscription frame, no PING of our own
            sports = manager.status().as_dict()["connections"]["sports"]
            assert sports["state"] == "connected" and sports["reconnects"] == 0
            await manager.unsubscribe_sports()
            await sim.wait_until(lambda: not sim.observed.open_on(SPORTS_OBS_PATH), timeout=5)


def _games(events: list[dict[str, Any]]) -> set[str]:
    return {e["data"]["game_key"] for e in events if e["type"] == "sports_score"}


async def test_scores_routed_to_subscriptions_by_league_and_slug(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=FAST) as h:
        nba = await h.call("subscribe_sports_scores", {"leagues": ["nba"]})
        nfl = await h.call("subscribe_sports_scores", {"slugs": [NFL_SLUG], "callback_type": "log"})
        every = await h.call("subscribe_sports_scores", {})
        assert nba["kind"] == "sports_scores" and nba["leagues"] == ["NBA"] and nba["slugs"] == []
        assert "NBA" in nba["filters"] and "delayed" in nba["note"]
        assert nfl["slugs"] == [NFL_SLUG] and "every game" in every["filters"]
        await h.sim.wait_until(lambda: len(h.sim.observed.open_on(SPORTS_OBS_PATH)) == 1)
        assert len(h.sim.observed.on(SPORTS_OBS_PATH)) == 1  # three subscriptions share one socket
        for key in (NBA_GAME, NHL_GAME, NFL_SLUG, EPL_SLUG):
            h.sim.sports_update(key)

        all_events, _ = await h.events_until(every["subscription_id"], lambda ev: len(_games(ev)) == 4)
        nba_events, _ = await h.events_until(nba["subscription_id"], lambda ev: len(_games(ev)) >= 1)
        nfl_events, _ = await h.events_until(nfl["subscription_id"], lambda ev: len(_games(ev)) >= 1)
        assert _games(all_events) == {NBA_GAME, NHL_GAME, NFL_SLUG, EPL_SLUG}
        assert _games(nba_events) == {NBA_GAME}
        assert _games(nfl_events) == {NFL_SLUG}
        (nba_score,) = [e["data"] for e in nba_events if e["type"] == "sports_score"]
        assert nba_score["league"] == "NBA" and nba_score["home_team"] == "Los Angeles Lakers"
        assert nba_score["score"] == f"{nba_score['home_score']}-{nba_score['away_score']}"

        status = await h.call("get_realtime_status")
        assert status["connections"]["sports"]["state"] == "connected"
        assert status["connections"]["sports"]["url"] == h.sim.sports_url
        assert status["statistics"]["events_by_type"]["sports_score"] >= 4

        for sub in (nba, nfl, every):
            await h.call("unsubscribe_realtime", {"subscription_id": sub["subscription_id"]})
        await h.sim.wait_until(lambda: not h.sim.observed.open_on(SPORTS_OBS_PATH))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"leagues": [""]}, "leagues contains an empty entry"),
        ({"leagues": ["NBA", "<script>"]}, "is not a league abbreviation"),
        ({"slugs": ["  "]}, "slugs contains an empty entry"),
        ({"slugs": ["Sea SF 2025"]}, "is not a game slug"),
    ],
)
async def test_bad_filters_are_clear_errors_and_change_nothing(
    tmp_path: Path, args: dict[str, Any], expected: str
) -> None:
    async with running(tmp_path, sim_config=FAST) as h:
        error = await h.call_error("subscribe_sports_scores", args)
        assert expected in error
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 0
        assert status["connections"]["sports"]["state"] == "idle"
        assert h.sim.observed.on(SPORTS_OBS_PATH) == []


async def test_reconnects_after_a_drop_and_scores_resume(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=FAST, reconnect_base_s=0.05, reconnect_max_s=0.2) as h:
        sub = await h.call("subscribe_sports_scores", {"leagues": ["NHL"]})
        sid = sub["subscription_id"]
        await h.sim.wait_until(lambda: len(h.sim.observed.open_on(SPORTS_OBS_PATH)) == 1)
        assert h.sim.sports.drop_all() == 1
        await h.sim.wait_until(
            lambda: len(h.sim.observed.on(SPORTS_OBS_PATH)) == 2 and len(h.sim.observed.open_on(SPORTS_OBS_PATH)) == 1
        )
        h.sim.sports_update(NHL_GAME)
        events, _ = await h.events_until(sid, lambda ev: NHL_GAME in _games(ev))
        states = [e["data"]["state"] for e in events if e["type"] == "feed_status"]
        assert "disconnected" in states and "connected" in states[states.index("disconnected") :]
        assert all(e["data"]["channel"] == "sports" for e in events if e["type"] == "feed_status")
        status = await h.call("get_realtime_status")
        assert status["connections"]["sports"]["reconnects"] == 1
        # The new socket is served by the heartbeat too (answered, so it stays up).
        pongs = h.sim.sports.pongs_received
        await h.sim.wait_until(lambda: h.sim.sports.pongs_received >= pongs + 3)
        assert h.sim.sports.closed_for_no_pong == 0
