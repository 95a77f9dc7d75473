"""Live check of the sports socket (needs internet): `pytest -m slow tests/live/test_live_sports.py`.

The venue pings every 5 s and closes a socket whose ``pong`` is more than 10 s late, so staying connected
through three pings (>= 15 s) shows our pongs are accepted. Game updates arrive only while games are
live; any that do must parse cleanly.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.venues.polymarket.rest import ClobRestClient

pytestmark = [pytest.mark.slow, pytest.mark.live]

PINGS = 3


@pytest.mark.anyio
async def test_live_sports_socket_heartbeat_and_updates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)  # production endpoints and timings
    books = BookStore()
    router = EventRouter(books)
    log = EventLog(10_000)
    router.add(Subscription("live", "sports_scores", frozenset(), frozenset(), frozenset({"sports_score"}), log=log))
    pings = 0
    enough = anyio.Event()

    def tap(channel: str, ts_recv_ns: int, frame: str | bytes) -> None:
        nonlocal pings
        if channel == "sports" and (frame if isinstance(frame, str) else frame.decode()).strip() == "ping":
            pings += 1
            if pings >= PINGS:
                enough.set()

    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest) as manager,
    ):
        manager.add_raw_tap(tap)
        await manager.subscribe_sports()
        with anyio.fail_after(60):
            await enough.wait()
        (conn,) = [c for c in manager.connections() if c.spec.channel == "sports"]
        assert conn.connected and conn.reconnects == 0, conn.status()
        assert conn.answered >= PINGS - 1  # the last ping may be answered just after the tap saw it
        assert conn.malformed == 0, "a sports update did not parse"
        sports = manager.status().as_dict()["connections"]["sports"]
        assert sports["state"] == "connected"
    for entry in log.read(0, 10_000).entries:
        event = entry.event
        assert getattr(event, "game_key", ""), event
