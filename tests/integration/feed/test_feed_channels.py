"""RTDS and user-channel connections of the feed engine against the simulator (issues 3 and 4)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import Comment, UserOrder, UserTrade
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings


@asynccontextmanager
async def feed(settings: Settings) -> AsyncIterator[WebSocketManager]:
    books = BookStore()
    router = EventRouter(books)
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
    ):
        yield manager


@dataclass(frozen=True)
class Creds:
    api_key: Secret
    secret: Secret
    passphrase: Secret


@pytest.mark.anyio
async def test_rtds_subscribe_filter_locally_and_resubscribe_after_reconnect(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=2, markets=2, rate_per_s=0, rtds_rate_per_s=100.0, resolve_after_s=None)
    async with Simulator(config) as sim, feed(fast_settings(sim, tmp_path)) as manager:
        # RTDS keeps no price topic (reference prices moved to PolyBolt): comments and activity remain.
        log = EventLog(1000)
        manager.router.add(
            Subscription(
                "comments",
                "comments",
                frozenset(),
                frozenset(),
                frozenset({"comment"}),
                log=log,
                predicate=lambda e: isinstance(e, Comment),
            )
        )
        await manager.subscribe_rtds("comments", "*")
        await manager.subscribe_rtds("comments", "*")  # ref-counted: one venue subscription
        await sim.wait_until(lambda: log.last_seq >= 2)
        (conn,) = sim.observed.on("/")
        assert [json.loads(t) for t in conn.texts if t != "PING"] == [
            {"action": "subscribe", "subscriptions": [{"topic": "comments", "type": "*"}]}
        ]
        await sim.wait_until(lambda: len(conn.pings) >= 2)
        await manager.subscribe_rtds("activity", "trades")
        await sim.wait_until(lambda: ("activity", "trades") in conn.topics)
        sim.faults.drop_all()
        await sim.wait_until(lambda: sim.observed.opened["/"] == 2 and len(sim.observed.on("/")[1].topics) == 2)
        second = sim.observed.on("/")[1]
        assert json.loads(second.texts[0]) == {
            "action": "subscribe",
            "subscriptions": [{"topic": "activity", "type": "trades"}, {"topic": "comments", "type": "*"}],
        }
        before = log.last_seq
        await sim.wait_until(lambda: log.last_seq > before)
        status = manager.status().as_dict()["connections"]["rtds"]
        assert status["state"] == "connected" and status["reconnects"] == 1
        await manager.unsubscribe_rtds("activity", "trades")
        await sim.wait_until(lambda: ("activity", "trades") not in second.topics)
        await manager.unsubscribe_rtds("comments", "*")
        assert second.open  # still held once
        await manager.unsubscribe_rtds("comments", "*")
        await sim.wait_until(lambda: not second.open)


@pytest.mark.anyio
async def test_user_channel_refreshes_rejected_credentials(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=4, markets=3, rate_per_s=0, rtds_rate_per_s=0, resolve_after_s=None)
    async with Simulator(config) as sim, feed(fast_settings(sim, tmp_path)) as manager:
        address = "0x" + "ab" * 20
        issued = sim.credentials._issue(address, 0)
        good = Creds(Secret(issued.api_key), Secret(issued.secret), Secret(issued.passphrase))
        stale = Creds(Secret(issued.api_key), Secret("c3RhbGUtc2VjcmV0LXN0YWxlLXNlY3JldA=="), Secret(issued.passphrase))
        calls: list[bool] = []

        async def provider(refresh: bool) -> Creds:
            calls.append(refresh)
            return good if refresh else stale

        manager.set_user_credentials_provider(provider)
        market = sim.model.markets[0].condition_id
        log = EventLog(100)
        manager.router.add(
            Subscription(
                "mine", "user", frozenset(), frozenset({market}), frozenset({"user_order", "user_trade"}), log=log
            )
        )
        await manager.subscribe_user_markets([market])
        await sim.wait_until(lambda: any(c.authenticated for c in sim.observed.on("/ws/user")))
        assert calls == [False, True]
        conn = next(c for c in manager.connections() if c.spec.channel == "user")
        assert "rejected the credentials" in (conn.last_error or "")
        first, second = sim.observed.on("/ws/user")
        assert not first.authenticated and second.authenticated
        assert json.loads(second.texts[0])["markets"] == [market]
        # No data-silence watchdog on this channel: it stays up on PONGs alone.
        await sim.wait_until(lambda: len(second.pings) >= 8)
        assert second.open and sim.observed.opened["/ws/user"] == 2
        sim.user.start(issued.api_key, issued.address, market=market)
        await sim.wait_until(lambda: any(isinstance(e.event, UserTrade) for e in log.read(0, 100).entries))
        assert any(isinstance(e.event, UserOrder) for e in log.read(0, 100).entries)
        # The secret never shows in status.
        assert issued.secret not in json.dumps(manager.status().as_dict(), default=str)
        await manager.unsubscribe_user_markets([market])
        await sim.wait_until(lambda: not second.open)


@pytest.mark.anyio
async def test_rtds_data_watchdog_reconnects_a_silent_socket(tmp_path: Path) -> None:
    """RTDS can stall while answering PING (docs/polymarket-protocol.md#rtds-frames): no data for rtds_idle_timeout_s
    -> reconnect."""
    config = SimulatorConfig(seed=2, markets=2, rate_per_s=0, rtds_rate_per_s=50.0, resolve_after_s=None)
    async with Simulator(config) as sim, feed(fast_settings(sim, tmp_path)) as manager:
        await manager.subscribe_rtds("comments", "*")
        await sim.wait_until(lambda: manager.stats.total_events > 0)
        sim.faults.go_silent()
        # PONGs keep coming, so only the data watchdog (1.5 s here) can notice; it reconnects.
        await sim.wait_until(lambda: sim.observed.opened["/"] >= 2, timeout=15)
        assert "no data" in (manager.status().as_dict()["connections"]["rtds"]["last_error"] or "")
        sim.faults.go_silent(on=False)
        before = manager.stats.total_events
        await sim.wait_until(lambda: manager.stats.total_events > before, timeout=15)
        assert manager.status().as_dict()["connections"]["rtds"]["state"] == "connected"
