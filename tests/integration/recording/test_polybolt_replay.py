"""PolyBolt frames are recorded like the other channels and replayed through the simulated PolyBolt server."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import ReferencePrice
from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.recording.service import RecordingService
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.replay import replay_simulator
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings

pytestmark = pytest.mark.anyio

VALUES = ("3200.5", "3201.25", "3199.75")


@dataclass(frozen=True)
class Creds:
    api_key: Secret
    secret: Secret
    passphrase: Secret


@asynccontextmanager
async def pipeline(sim: Simulator, settings: Settings) -> AsyncIterator[tuple[WebSocketManager, BookStore, EventLog]]:
    issued = sim.credentials._issue("0x" + "cd" * 20, 0)
    creds = Creds(Secret(issued.api_key), Secret(issued.secret), Secret(issued.passphrase))

    async def provider(refresh: bool) -> Creds:
        return creds

    books = BookStore()
    router = EventRouter(books)
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(1)) as manager,
    ):
        manager.set_polybolt_credentials_provider(provider)
        log = EventLog(10_000)
        router.add(
            Subscription("ref", "reference_prices", frozenset(), frozenset(), frozenset({"reference_price"}), log=log)
        )
        yield manager, books, log


def live(log: EventLog) -> list[Decimal]:
    entries = log.read(0, 10_000).entries
    return [e.event.value for e in entries if isinstance(e.event, ReferencePrice) and not e.event.snapshot]


async def test_polybolt_frames_record_and_replay(tmp_path: Path) -> None:
    config = SimulatorConfig(
        seed=3, markets=1, rate_per_s=0, rtds_rate_per_s=0, resolve_after_s=None, polybolt_rate_per_s=0
    )
    async with Simulator(config) as sim:
        settings = fast_settings(sim, tmp_path)
        async with pipeline(sim, settings) as (manager, books, log), anyio.create_task_group() as tg:
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.05)
            await service.start(tg)
            info = await service.start_recording(reference=["crypto:ethusd"], name="pb")
            await sim.wait_until(lambda: bool(log.read(0, 10).entries))  # the snapshot arrived: subscribed
            for value in VALUES:
                sim.polybolt.publish("crypto", "ethusd", value)
            await sim.wait_until(lambda: len(live(log)) == 3)
            final = await service.stop_recording(info.recording_id)
            tg.cancel_scope.cancel()
    reader = RecordingReader(Path(final.path))
    frames = list(reader.frames())
    assert reader.header is not None and reader.header.reference == ["crypto:ethusd"]
    assert {f.channel for f in frames} == {"polybolt"} and len(frames) == 4  # one snapshot, three live points

    replay = replay_simulator(final.path, speed=None)
    async with replay:
        settings = fast_settings(replay, tmp_path / "replay")
        async with pipeline(replay, settings) as (manager, _books, log):
            await manager.subscribe_reference_prices(["crypto:ethusd"])
            await replay.wait_until(lambda: len(live(log)) == 3)
            assert live(log) == [Decimal(v) for v in VALUES]
            assert manager.status().as_dict()["connections"]["polybolt"]["seq_gaps"] == 0
