"""Round trip: record the simulator through the real feed, replay it through the simulator's sockets,
and get the same event log and the same books (issue 6 acceptance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import Event
from polymarket_realtime.recording.reader import RecordingReader
from polymarket_realtime.recording.service import RecordingService
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.replay import ReplaySource
from polymarket_realtime.venues.polymarket.parsing import parse_market_frame
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings

MARKET_TYPES = frozenset({"book", "price_change", "last_trade_price", "tick_size_change", "best_bid_ask"})


def _settings(sim: Simulator, data_dir: Path) -> Settings:
    # A long idle timeout and fallback: a replay may pause between recorded bursts.
    return fast_settings(sim, data_dir, market_idle_timeout_s=30.0, snapshot_fallback_s=5.0)


@asynccontextmanager
async def _pipeline(settings: Settings) -> AsyncIterator[tuple[WebSocketManager, BookStore, EventRouter]]:
    books = BookStore()
    router = EventRouter(books)
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
    ):
        yield manager, books, router


def _log(router: EventRouter, tokens: list[str]) -> EventLog:
    sub = Subscription("rt", "test", frozenset(tokens), frozenset(), MARKET_TYPES, log=EventLog(100_000))
    return router.add(sub).log


def _events(log: EventLog, upto: int | None = None) -> list[Event]:
    read = log.read(0, 1_000_000)
    assert read.dropped == 0
    return [msgspec.structs.replace(e.event, ts_recv_ns=0) for e in read.entries if upto is None or e.seq <= upto]


def _book_views(books: BookStore, tokens: list[str]) -> dict[str, Any]:
    views = {}
    for token in tokens:
        book = books.get(token)
        assert book is not None
        view = book.view(depth=1000)
        view.pop("age_s", None)
        views[token] = view
    return views


@pytest.mark.anyio
async def test_record_then_replay_reproduces_events_and_books(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=11, markets=3, rate_per_s=150.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        tokens = [t for m in sim.model.markets[:2] for t in m.token_ids]
        settings = _settings(sim, tmp_path)
        async with _pipeline(settings) as (manager, books, router), anyio.create_task_group() as tg:
            log = _log(router, tokens)
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.1)
            await service.start(tg)
            info = await service.start_recording(tokens, name="round trip")
            with anyio.fail_after(20):
                while log.last_seq < 200:
                    await log.wait(log.last_seq, 5)
            # Synchronously: every frame tapped so far has been routed, and nothing else.
            recorded_upto = log.last_seq
            original_books = _book_views(books, tokens)
            stopped = await service.stop_recording(info.recording_id)
            original = _events(log, recorded_upto)
            tg.cancel_scope.cancel()
    assert stopped.frames is not None and stopped.frames > 0
    path = Path(stopped.path)
    assert len(list(RecordingReader(path).frames())) == stopped.frames

    replay_config = SimulatorConfig(seed=11, markets=3, rate_per_s=0.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    source = ReplaySource(path, speed=None)
    async with (
        Simulator(replay_config, source=source) as replay,
        _pipeline(_settings(replay, tmp_path / "replay")) as (manager, books, router),
    ):
        log = _log(router, tokens)
        await manager.subscribe_assets(tokens)
        with anyio.fail_after(20):
            while log.last_seq < len(original):
                await log.wait(log.last_seq, 5)
            await replay.wait_until(lambda: source.finished)
        replayed = _events(log)
        replay_books = _book_views(books, tokens)
    assert source.error is None
    assert len(replayed) == len(original)
    assert replayed == original
    assert replay_books == original_books


@pytest.mark.anyio
async def test_replay_sends_only_subscribed_tokens(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=5, markets=2, rate_per_s=100.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        tokens = [t for m in sim.model.markets for t in m.token_ids]
        settings = _settings(sim, tmp_path)
        async with _pipeline(settings) as (manager, books, router), anyio.create_task_group() as tg:
            log = _log(router, tokens)
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.1)
            await service.start(tg)
            info = await service.start_recording(tokens)
            with anyio.fail_after(20):
                while log.last_seq < 80:
                    await log.wait(log.last_seq, 5)
            stopped = await service.stop_recording(info.recording_id)
            tg.cancel_scope.cancel()

    first_market = tokens[:2]
    source = ReplaySource(Path(stopped.path), speed=None)
    replay_config = SimulatorConfig(seed=5, markets=2, rate_per_s=0.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with (
        Simulator(replay_config, source=source) as replay,
        _pipeline(_settings(replay, tmp_path / "r")) as (manager, _books, router),
    ):
        log = _log(router, tokens)
        await manager.subscribe_assets(first_market)
        with anyio.fail_after(20):
            await replay.wait_until(lambda: source.finished)
            while not any(e.event.type == "book" for e in log.read(0, 10_000).entries):
                await log.wait(log.last_seq, 5)
        assert source.frames_replayed > 0
        got = {getattr(e.event, "asset_id", "") for e in log.read(0, 100_000).entries}
        assert got == set(first_market)
        # The simulator sent nothing for the other market: the client had nothing to filter out.
        assert manager.stats.filtered_events == 0


@pytest.mark.anyio
async def test_recording_of_already_live_books_starts_with_snapshots(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=13, markets=2, rate_per_s=150.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        tokens = list(sim.model.markets[0].token_ids)
        settings = _settings(sim, tmp_path)
        async with _pipeline(settings) as (manager, books, router), anyio.create_task_group() as tg:
            log = _log(router, tokens)
            await manager.subscribe_assets(tokens)  # another consumer already holds the books
            with anyio.fail_after(20):
                while log.last_seq < 30:
                    await log.wait(log.last_seq, 5)
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.1)
            await service.start(tg)
            info = await service.start_recording(tokens)
            start = log.last_seq
            with anyio.fail_after(20):
                while log.last_seq < start + 50:
                    await log.wait(log.last_seq, 5)
            live_books = _book_views(books, tokens)
            stopped = await service.stop_recording(info.recording_id)
            tg.cancel_scope.cancel()
    frames = list(RecordingReader(Path(stopped.path)).frames())
    assert [f.channel for f in frames[:2]] == ["snapshot", "snapshot"]
    assert "snapshot" not in {f.channel for f in frames[2:]}
    replayed = BookStore()
    for frame in frames:
        for event in parse_market_frame(frame.data, frame.ts_recv_ns).events:
            replayed.apply(event)
    assert _book_views(replayed, tokens) == live_books


@pytest.mark.anyio
async def test_books_from_the_rest_fallback_are_recorded(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=17, markets=2, rate_per_s=50.0, resolve_after_s=None, rtds_rate_per_s=0.0)
    async with Simulator(config) as sim:
        token = sim.model.markets[0].token_ids[0]
        settings = _settings(sim, tmp_path).replace(snapshot_fallback_s=0.3)
        sim.faults.delay_initial_dump(30.0)  # the socket's dump comes too late: the feed fetches REST books
        async with _pipeline(settings) as (manager, books, _router), anyio.create_task_group() as tg:
            service = RecordingService(settings.recordings_dir, manager, books, flush_interval_s=0.1)
            await service.start(tg)
            info = await service.start_recording([token])
            await sim.wait_until(lambda: service.backfilled == 1, 20)
            book = books.get(token)
            assert book is not None and book.source == "rest"
            expected = book.view(depth=1000)
            stopped = await service.stop_recording(info.recording_id)
            tg.cancel_scope.cancel()
    frames = list(RecordingReader(Path(stopped.path)).frames())
    (snapshot,) = [f for f in frames if f.channel == "snapshot"]
    replayed = BookStore()
    for event in parse_market_frame(snapshot.data, snapshot.ts_recv_ns).events:
        replayed.apply(event)
    got = replayed.get(token)
    assert got is not None
    view = got.view(depth=1000)
    for key in ("bids", "asks", "tick_size"):
        assert view[key] == expected[key]
