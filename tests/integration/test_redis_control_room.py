"""The control room in Redis mode: two servers share one Redis and one simulator; the dashboard of the one
that does not own sessions shows the owner's live state and forwards control actions to it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest
import redis.asyncio as aioredis

from polymarket_realtime.config import Settings
from polymarket_realtime.http.host import ControlRoom, HttpOptions, bind_socket
from polymarket_realtime.redisbus.feedproc import FeedProcess
from polymarket_realtime.redisbus.keys import Keys
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.integration._http_harness import HttpHarness, recv_until, send
from tests.integration._mcp_harness import settings_for
from tests.redis_fixtures import RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]

PREFIX = "cr:"
VIEWER_TOOLSETS = frozenset({"market", "realtime"})
"""The second server runs no paper/agents toolsets: it never takes sessions over, so who owns them stays fixed."""


@contextlib.asynccontextmanager
async def feed_running(sim: Simulator, url: str, data_dir: Path) -> AsyncIterator[None]:
    client = aioredis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=1)
    settings = settings_for(sim, data_dir)
    feed = FeedProcess(settings, client, prefix=PREFIX, lock_ttl_s=1.0, lease_poll_s=0.1, lease_grace_s=3.0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(feed.run)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await client.aclose()


@contextlib.asynccontextmanager
async def room(sim: Simulator, settings: Settings) -> AsyncIterator[HttpHarness]:
    server = create_server(settings)
    control = ControlRoom(server, settings, HttpOptions(port=0))
    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    async with anyio.create_task_group() as tg, httpx2.AsyncClient(timeout=30.0) as http:
        tg.start_soon(lambda: control.serve(sock, announce=False))
        with anyio.fail_after(30):
            await control.ready.wait()
        try:
            yield HttpHarness(sim=sim, server=server, room=control, settings=settings, port=port, http=http)
        finally:
            control.stop()


def redis_settings(sim: Simulator, redis: RedisServer, data_dir: Path, **changes: Any) -> Settings:
    return settings_for(
        sim,
        data_dir,
        redis_url=Secret(redis.url),
        redis_prefix=PREFIX,
        redis_lease_ttl_s=3.0,
        book_warmup_s=5.0,
        order_book_wait_s=3.0,
        extra={"redis_block_ms": "50"},
        **changes,
    )


async def subscribe(ws: Any, *channels: str) -> dict[str, Any]:
    """Subscribe and return the snapshots by channel."""
    await send(ws, {"type": "subscribe", "channels": list(channels)})
    snapshots: dict[str, Any] = {}
    for message in await recv_until(
        ws, lambda m: m.get("type") in ("snapshot", "error") and _all(snapshots, m, channels), within_s=15
    ):
        assert message["type"] != "error", message
    return snapshots


def _all(snapshots: dict[str, Any], message: dict[str, Any], channels: tuple[str, ...]) -> bool:
    if message.get("type") == "snapshot":
        snapshots[message["channel"]] = message["data"]
    return message.get("type") == "error" or all(c in snapshots for c in channels)


async def test_non_owner_dashboard_shows_and_controls_the_owners_sessions(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    config = SimulatorConfig(seed=5, markets=3, rate_per_s=40.0, resolve_after_s=None)
    async with (
        Simulator(config) as sim,
        feed_running(sim, redis_server.url, tmp_path / "feed"),
        anyio.create_task_group() as tg,
    ):
        stop_owner, owner_gone = anyio.Event(), anyio.Event()

        async def run_owner(*, task_status: anyio.abc.TaskStatus[HttpHarness]) -> None:
            async with room(sim, redis_settings(sim, redis_server, tmp_path / "owner")) as harness:
                task_status.started(harness)
                await stop_owner.wait()
            owner_gone.set()

        owner: HttpHarness = await tg.start(run_owner)
        assert owner.room.sources.paper is not None, "the first server owns sessions"
        async with room(
            sim, redis_settings(sim, redis_server, tmp_path / "viewer", toolsets=VIEWER_TOOLSETS)
        ) as viewer:
            assert viewer.room.sources.paper is None
            assert (await viewer.ok("GET", "/api/whoami"))["owner"] is False
            async with viewer.ws() as ws:
                snaps = await subscribe(ws, "sessions", "activity", "system")
                assert snaps["sessions"] == []  # the owner's (empty) list, not "unavailable"
                token = owner.market().tokens[0].token_id
                created = await owner.ok("POST", "/api/sessions", {"name": "shared", "token_ids": [token]})
                sid = created["session_id"]
                # A session created on the owner appears in the viewer's sessions channel.
                await recv_until(ws, lambda m: m.get("channel") == "sessions" and m["data"].get("session_id") == sid)
                # A pause POSTed to the viewer is carried out by the owner, and the answer says so.
                paused = await viewer.ok("POST", f"/api/sessions/{sid}/pause")
                assert paused["state"] == "paused"
                assert (await owner.ok("GET", f"/api/sessions/{sid}"))["state"] == "paused"
                # ... and the activity feed of the owner reaches the viewer.
                seen = await recv_until(
                    ws,
                    lambda m: (
                        m.get("channel") == "sessions"
                        and m["data"].get("session_id") == sid
                        and m["data"].get("state") == "paused"
                    ),
                )
                assert [m for m in seen if m.get("type") == "event"]
                await owner.ok("POST", f"/api/sessions/{sid}/resume")
                await recv_until(ws, lambda m: m.get("channel") == "activity" and m.get("type") == "event")
            # The viewer answers with the owner's own errors (same status and code).
            missing = await viewer.post("/api/sessions/nope/pause")
            assert missing.status_code == 404 and missing.json()["error"] == "not_found"
            bad = await viewer.post("/api/sessions", {"name": "x", "token_ids": ["abc"]})
            assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
            # The per-session command stream of the viewer carries the owner's commands.
            async with viewer.ws(f"/ws/sessions/{sid}") as stream:
                await send(stream, {"type": "get_status"})
                status = await recv_until(stream, lambda m: m.get("type") == "status")
                assert status[-1]["data"]["session_id"] == sid
                await owner.ok("POST", f"/api/sessions/{sid}/pause")
                commands = await recv_until(
                    stream, lambda m: m.get("type") == "command" and m["kind"] == "state_changed"
                )
                assert commands[-1]["data"]["to"] == "paused"
            listed = await viewer.ok("GET", "/api/sessions")
            assert [s["session_id"] for s in listed["sessions"]] == [sid]
            # An agent started through the viewer runs on the owner; its view and live log lines reach the viewer.
            async with viewer.ws() as ws:
                await subscribe(ws, "agents")
                agent = await viewer.ok(
                    "POST",
                    "/api/agents",
                    {"kind": "market_scanner", "config": {"token_ids": [token]}},
                )
                aid = agent["agent_id"]
                assert [a["agent_id"] for a in (await owner.ok("GET", "/api/agents"))["agents"]] == [aid]
                await recv_until(ws, lambda m: m.get("channel") == "agents" and m["data"].get("agent_id") == aid)
                assert (await viewer.ok("POST", f"/api/agents/{aid}/stop"))["state"] == "stopped"
                await send(ws, {"type": "subscribe", "channels": [f"logs:{aid}"]})
                await recv_until(ws, lambda m: m.get("type") == "snapshot" and m["channel"] == f"logs:{aid}")
                # Restarted (forwarded too): the scanner logs its weights when it starts.
                assert (await viewer.ok("POST", f"/api/agents/{aid}/start"))["state"] == "running"
                line = await recv_until(
                    ws, lambda m: m.get("channel") == f"logs:{aid}" and m.get("type") == "event", within_s=20
                )
                assert "scanning with weights" in line[-1]["data"]["message"]
            # The master switch and agent routes go to the owner too (its state, its errors).
            assert (await viewer.ok("POST", "/api/system/stop"))["switch"] == "stopped"
            assert (await owner.ok("GET", "/api/system"))["switch"] == "stopped"
            twice = await viewer.post("/api/system/stop")
            assert twice.status_code == 409 and "already stopped" in twice.json()["detail"]
            assert (await viewer.ok("POST", "/api/system/start"))["switch"] == "running"
            via_viewer = await viewer.post("/api/agents/ag-nope/start")
            on_owner = await owner.post("/api/agents/ag-nope/start")
            assert via_viewer.status_code == on_owner.status_code == 404
            assert via_viewer.json() == on_owner.json()
            # The owner stops (and frees its lock): the viewer says nobody owns sessions, within bounded time.
            stop_owner.set()
            with anyio.fail_after(15):
                await owner_gone.wait()
            with anyio.fail_after(10):
                gone = await viewer.post(f"/api/sessions/{sid}/resume")
            assert gone.status_code == 503
            body = gone.json()
            assert body["error"] == "no_owner" and "start a server" in body["detail"]


async def test_owner_that_stopped_answering_gets_503_naming_it(redis_server: RedisServer, tmp_path: Path) -> None:
    config = SimulatorConfig(seed=5, markets=2, rate_per_s=20.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        settings = redis_settings(sim, redis_server, tmp_path / "viewer", toolsets=VIEWER_TOOLSETS)
        client = aioredis.Redis.from_url(redis_server.url)
        try:
            # A dead owner: its lock is still there (until its TTL), nobody reads the requests.
            await client.set(Keys(PREFIX).sessions_owner, "server@ghost:1:dead", px=60_000)
            async with room(sim, settings) as viewer:
                bridge_rpc = viewer.room.caller().bridge.rpc  # type: ignore[attr-defined]
                bridge_rpc.timeout_s = 1.0
                with anyio.fail_after(10):
                    answer = await viewer.post("/api/system/stop")
                    async with viewer.ws() as ws:
                        await send(ws, {"type": "subscribe", "channels": ["sessions"]})
                        error = await recv_until(ws, lambda m: m.get("type") == "error")
        finally:
            await client.aclose()
    assert answer.status_code == 503
    body = answer.json()
    assert (
        body["error"] == "no_owner"
        and "server@ghost:1:dead" in body["detail"]
        and "stopped answering" in body["detail"]
    )
    assert error[-1]["error"] == "no_owner"
    assert json.dumps(body).count("ghost") == 1
