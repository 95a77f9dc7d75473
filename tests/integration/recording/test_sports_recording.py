"""The sports channel through record -> replay: game updates kept (heartbeats not), replayed on the socket."""

from __future__ import annotations

import random
from pathlib import Path

import anyio
import msgspec
import pytest

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import Event, SportsScore
from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.recording.service import RecordingService
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.replay import replay_simulator
from polymarket_realtime.simulator.sports import SPORTS_OBS_PATH
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings

pytestmark = pytest.mark.anyio

CONFIG = SimulatorConfig(
    seed=9,
    markets=2,
    rate_per_s=5.0,
    resolve_after_s=None,
    rtds_rate_per_s=0.0,
    sports_rate_per_s=0.0,
    sports_ping_interval_s=0.05,
)
KEYS = ("5127839", "sea-sf-2025-02-03", "5127840", "ars-che-2025-02-03")


async def _until(log: EventLog, n: int) -> None:
    """Wait (no polling) until the log holds ``n`` entries."""
    with anyio.fail_after(10):
        while log.last_seq < n:
            await log.wait(log.last_seq, 10)


def _scores(log: EventLog) -> list[Event]:
    return [msgspec.structs.replace(e.event, ts_recv_ns=0) for e in log.read(0, 10_000).entries]


async def test_sports_updates_record_and_replay(tmp_path: Path) -> None:
    async with Simulator(CONFIG) as sim:
        settings = fast_settings(sim, tmp_path)
        books = BookStore()
        router = EventRouter(books)
        log = router.add(Subscription("s", "test", frozenset(), frozenset(), frozenset({"sports_score"}))).log
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(2)) as manager,
            anyio.create_task_group() as tg,
        ):
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.05)
            await service.start(tg)
            info = await service.start_recording(name="games", sports=True)
            await sim.wait_until(lambda: len(sim.observed.open_on(SPORTS_OBS_PATH)) == 1)
            for key in KEYS:
                sim.sports_update(key)
            await sim.wait_until(lambda: sim.sports.pongs_received >= 3)  # heartbeats went through the tap too
            await _until(log, len(KEYS))
            final = await service.stop_recording(info.recording_id)
            tg.cancel_scope.cancel()
        live = _scores(log)
    assert [e.game_key for e in live if isinstance(e, SportsScore)] == list(KEYS)

    reader = RecordingReader(Path(final.path))
    assert reader.read_header().sports is True
    frames = list(reader.frames())
    assert [f.channel for f in frames] == ["sports"] * len(KEYS)  # no ping, no other channel
    assert all(f.text().startswith("{") for f in frames)

    replay = replay_simulator(Path(final.path), speed=None)
    async with replay as sim:
        settings = fast_settings(sim, tmp_path / "replay")
        books = BookStore()
        router = EventRouter(books)
        log = router.add(Subscription("r", "test", frozenset(), frozenset(), frozenset({"sports_score"}))).log
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
        ):
            await manager.subscribe_sports()  # the replay clock starts when the sports socket connects
            await _until(log, len(KEYS))
        replayed = _scores(log)
    assert replayed == live


async def test_record_needs_something_to_record(tmp_path: Path) -> None:
    async with Simulator(CONFIG) as sim:
        settings = fast_settings(sim, tmp_path)
        books = BookStore()
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(settings, books=books, router=EventRouter(books), clob_rest=rest) as manager,
            anyio.create_task_group() as tg,
        ):
            service = RecordingService(settings.recordings_dir, manager, books)
            await service.start(tg)
            with pytest.raises(InvalidInputError, match="give at least one"):
                await service.start_recording(name="nothing")
            tg.cancel_scope.cancel()
        assert sim.observed.on(SPORTS_OBS_PATH) == []
