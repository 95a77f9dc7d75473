"""Keepalive timing of every channel's real socket on a virtual clock, against the simulator.

Market, user and RTDS: the client pings. Sports: the server pings, the client answers and only watches
for silence. (PolyBolt is the exception: see WEBSOCKET_INTEGRATION.md, "Keepalive".)

Issue 11: with a 5 s interval the first PING went out after 7.3 s (the loop slept in fixed steps). Now each
socket sleeps until its next deadline on the injected clock, so pings go out at exactly 5, 10, 15 s."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.connection import FeedConnection
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.wire import OutFrame
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings
from tests.virtual_clock import VirtualClock

pytestmark = pytest.mark.anyio

INTERVAL = 5.0


@dataclass(frozen=True)
class Creds:
    api_key: Secret
    secret: Secret
    passphrase: Secret


class Pongs:
    """Counts PONG frames per channel through a raw tap (a condition to wait on, no sleeping)."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self._changed = anyio.Event()

    def tap(self, channel: str, ts: int, frame: str | bytes) -> None:
        if frame in ("PONG", b"PONG"):
            self.count[channel] = self.count.get(channel, 0) + 1
            self._changed.set()
            self._changed = anyio.Event()

    async def wait(self, channel: str, n: int) -> None:
        with anyio.fail_after(10):
            while self.count.get(channel, 0) < n:
                await self._changed.wait()


@asynccontextmanager
async def feed(settings: Settings, clock: VirtualClock) -> AsyncIterator[WebSocketManager]:
    books = BookStore()
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(
            settings, books=books, router=EventRouter(books), clob_rest=rest, clock=clock, sleep=clock.sleep
        ) as manager,
    ):
        yield manager


async def _open_market(sim: Simulator, manager: WebSocketManager) -> str:
    await manager.subscribe_assets([sim.model.markets[0].token_ids[0]])
    return "/ws/market"


async def _open_user(sim: Simulator, manager: WebSocketManager) -> str:
    issued = sim.credentials._issue("0x" + "cd" * 20, 0)

    async def provider(refresh: bool) -> Creds:
        return Creds(Secret(issued.api_key), Secret(issued.secret), Secret(issued.passphrase))

    manager.set_user_credentials_provider(provider)
    await manager.subscribe_user_markets([])
    return "/ws/user"


async def _open_rtds(sim: Simulator, manager: WebSocketManager) -> str:
    await manager.subscribe_rtds("crypto_prices", "update")
    return "/"


@pytest.mark.parametrize(
    ("channel", "opener", "on_open"),
    [
        pytest.param("market", _open_market, 0, id="market"),
        pytest.param("user", _open_user, 1, id="user"),  # plus one ping right after auth (it proves the creds)
        pytest.param("rtds", _open_rtds, 0, id="rtds"),
    ],
)
async def test_pings_exactly_on_the_interval(
    tmp_path: Path,
    channel: str,
    opener: Callable[[Simulator, WebSocketManager], Awaitable[str]],
    on_open: int,
) -> None:
    config = SimulatorConfig(seed=5, markets=2, rate_per_s=0, rtds_rate_per_s=0, resolve_after_s=None)
    clock = VirtualClock()
    async with Simulator(config) as sim:
        settings = fast_settings(
            sim,
            tmp_path,
            ping_interval_s=INTERVAL,
            rtds_ping_interval_s=INTERVAL,
            pong_timeout_s=3 * INTERVAL + 1,  # every socket answers: never reached
            market_idle_timeout_s=100.0,
            rtds_idle_timeout_s=100.0,
        )
        async with feed(settings, clock) as manager:
            pongs = Pongs()
            manager.add_raw_tap(pongs.tap)
            path = await opener(sim, manager)
            await clock.wait_sleepers(1)  # connected: its keepalive loop sleeps until the first deadline
            (conn,) = [c for c in manager.connections() if c.spec.channel == channel]
            assert isinstance(conn, FeedConnection) and conn.state == "connected"
            opened = conn.opened_at_monotonic
            assert opened == clock.now
            # Wall timestamps come from the injected clock too (the virtual wall time is in 2027).
            assert conn.connected_since == clock.time_ns() / 1e9
            assert manager.status().connections[channel].connected_since == clock.time_ns() / 1e9
            await pongs.wait(channel, on_open)
            (observed,) = sim.observed.on(path)
            for k in range(1, 4):
                due = opened + k * INTERVAL
                await clock.advance_to(due - 0.001)
                assert conn.pings_sent == on_open + k - 1  # not early
                await clock.advance_to(due)
                assert conn.pings_sent == on_open + k and conn.last_ping_at == due  # exactly on time
                await sim.wait_until(lambda k=k: len(observed.pings) == on_open + k)  # and on the wire
                await pongs.wait(channel, on_open + k)
            assert conn.state == "connected" and sim.observed.opened[path] == 1


async def test_sports_answers_server_pings_and_drops_on_silence_at_the_exact_deadline(tmp_path: Path) -> None:
    silence = 30.0
    # The simulator's own heartbeat (real time) is pushed out of the test; the test sends each ping itself.
    config = SimulatorConfig(
        seed=5, markets=1, rate_per_s=0, rtds_rate_per_s=0, sports_rate_per_s=0, sports_ping_interval_s=3600
    )
    clock = VirtualClock()
    async with Simulator(config) as sim:
        settings = fast_settings(sim, tmp_path, sports_silence_timeout_s=silence)
        async with feed(settings, clock) as manager:
            await manager.subscribe_sports()
            await clock.wait_sleepers(1)  # connected: its keepalive sleeps until the silence deadline
            (conn,) = [c for c in manager.connections() if c.spec.channel == "sports"]
            assert isinstance(conn, FeedConnection) and conn.state == "connected"
            opened = conn.opened_at_monotonic
            assert opened == clock.now and clock.next_deadline() == opened + silence

            await clock.advance_to(opened + 10)
            sim.sports.dispatch([OutFrame(channel="sports", text="ping")])  # the server's heartbeat
            await sim.wait_until(lambda: sim.sports.pongs_received == 1)  # answered by the reader
            assert conn.answered == 1 and conn.pings_sent == 0 and sim.sports.unexpected_frames == 0

            await clock.advance_to(opened + silence)  # the old deadline: the ping at +10 moved it to +40
            assert conn.state == "connected" and conn.pings_sent == 0
            await clock.advance_to(opened + 10 + silence - 0.001)
            assert conn.state == "connected" and conn.last_error is None
            await clock.advance_to(opened + 10 + silence)  # silent for exactly sports_silence_timeout_s
            await sim.wait_until(lambda: conn.last_error is not None)
            assert conn.last_error == f"no PONG or data for {silence:g}s: socket presumed dead"
            assert sim.sports.unexpected_frames == 0  # the client never sent anything but pongs
