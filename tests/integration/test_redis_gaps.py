"""Shared-feed gaps found in review: live session ownership, status refresh, dead feed, malformed data, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis
from mcp import Client

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.desired import Interest
from polymarket_realtime.model.events import FeedStatus, encode_event
from polymarket_realtime.redisbus.consumer import RedisFeedBackend
from polymarket_realtime.redisbus.keys import Keys
from polymarket_realtime.redisbus.leases import LeaseRegistry, read_union
from polymarket_realtime.redisbus.link import NO_FEED
from polymarket_realtime.redisbus.ownership import SessionOwnership
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator
from tests.integration.test_redis_shared_feed import (
    PREFIX,
    _state_seen,
    backend_of,
    call,
    feeds_running,
    read_events,
    read_until,
    server_settings,
    sim_settings_for,
    simulator,
    within,
)
from tests.redis_fixtures import RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server", "simulator"]


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def _services(ownership: SessionOwnership, up: bool, within_s: float = 15.0) -> None:
    with anyio.fail_after(within_s):
        while ownership.services_up != up:
            await ownership.wait_changed()


async def test_sessions_start_once_redis_is_reachable_after_a_down_start(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Item 1: ownership is retried while not held; the refusal says Redis is unreachable, truthfully."""
    from polymarket_realtime.server.ext_paper import EXTENSION as PAPER

    base = sim_settings_for(simulator, tmp_path / "feed")
    redis_server.stop()
    server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[PAPER])
    async with Client(server) as client:
        refused = await client.call_tool("list_paper_sessions", {})
        assert refused.is_error and "Redis is unreachable" in _text(refused)
        ownership = backend_of(server).sessions
        await anyio.to_thread.run_sync(redis_server.start)
        await _services(ownership, True)
        listed = await call(client, "list_paper_sessions", {})
        assert listed["sessions"] == []
        assert ownership.held


async def test_lost_ownership_stops_sessions_and_names_the_new_owner(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Item 2: the owner that loses the lock stops its services; they come back when it re-takes the lock."""
    from polymarket_realtime.server.ext_paper import EXTENSION as PAPER

    base = sim_settings_for(simulator, tmp_path / "feed")
    server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[PAPER])
    probe = aioredis.Redis.from_url(redis_server.url)
    key = Keys(PREFIX).sessions_owner
    try:
        async with Client(server) as client:
            await call(client, "list_paper_sessions", {})
            ownership = backend_of(server).sessions
            assert ownership.services_up
            # As after a Redis restart without persistence where another server asked first.
            await probe.set(key, "server@intruder", px=60_000)
            await _services(ownership, False)
            refused = await client.call_tool("list_paper_sessions", {})
            assert refused.is_error and "server@intruder" in _text(refused)
            assert not ownership.held
            await probe.delete(key)  # the other server stops: this one takes over by itself
            await _services(ownership, True)
            await call(client, "list_paper_sessions", {})
            assert (await probe.get(key)) == backend_of(server).server_id.encode()
    finally:
        await probe.aclose()


async def test_status_tool_refreshes_leader_without_a_manual_refresh(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Item 3: a long lease TTL means no housekeeper round yet; the status tool itself reads the leader."""
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        feed = await feeds.start()
        await within(10, feed.wait_role("leader"))
        settings = server_settings(base, redis_server, tmp_path / "s1").replace(redis_lease_ttl_s=60.0)
        server = create_server(settings, extensions=[])
        async with Client(server) as client:
            sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            await read_events(client, sub, 0, 2)
            status = await call(client, "get_realtime_status", {})
    shared = status["shared_feed"]
    assert shared["feed_leader"] == feed.token
    assert shared["feed_publishing"] is True
    assert shared["measured_age_s"] is not None and shared["measured_age_s"] < 5


async def test_dead_feed_without_standby_marks_books_stale_then_resyncs(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Item 4: no leader -> books stale + feed_status stale naming the fix; a new feed -> resynced."""
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        await feeds.start()
        server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        async with Client(server) as client:
            sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            before = await read_events(client, sub, 0, 3)
            feeds.scopes[0].cancel()  # the only feed process stops
            stale = await read_until(client, sub, before[-1]["seq"], lambda evs: _state_seen(evs, "stale"))
            notice = next(e for e in stale if e["type"] == "feed_status" and e["data"]["state"] == "stale")
            assert notice["data"]["detail"] == NO_FEED
            book = server.running_app().books.get(token)
            assert book is not None and book.stale and "no feed process" in (book.stale_reason or "")
            await feeds.start()
            back = await read_until(client, sub, stale[-1]["seq"], lambda evs: _state_seen(evs, "resynced"))
            book = server.running_app().books.get(token)
            assert book is not None and not book.stale
            assert backend_of(server).leaderless is False
    assert any(e["type"] == "book" for e in back)


async def test_subscribing_while_redis_is_down_says_so_and_starts_later(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Item 5: the subscription is kept; its first event says Redis is unreachable; data follows on recovery."""
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        await feeds.start()
        server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        async with Client(server) as client:
            backend = backend_of(server)
            await within(10, backend.wait_link(up=True))
            await anyio.to_thread.run_sync(redis_server.stop)
            await within(10, backend.wait_link(up=False))
            result = await call(client, "subscribe_orderbook_updates", {"token_ids": [token]})
            assert result["status"] == "waiting_for_feed" and "Redis" in result["next_step"]
            sub = result["subscription_id"]
            first = await read_events(client, sub, 0, 1)
            assert first[0]["type"] == "feed_status" and first[0]["data"]["state"] == "disconnected"
            assert "Redis unreachable" in first[0]["data"]["detail"]
            assert "starts when Redis is reachable again" in first[0]["data"]["detail"]
            await anyio.to_thread.run_sync(redis_server.start)
            later = await read_until(client, sub, first[-1]["seq"], lambda evs: any(e["type"] == "book" for e in evs))
    assert _state_seen(later, "connected")


def _status(detail: str) -> bytes:
    return encode_event(
        FeedStatus(ts_event_ms=0, ts_recv_ns=1, channel="market", connection_id="t", state="connected", detail=detail)
    )


async def test_malformed_stream_entries_and_leases_are_skipped(redis_server: RedisServer) -> None:
    """Item 6a/6b: a bad ``s`` field or a non-JSON lease is counted and skipped; nothing stops."""
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t9:")
    books = BookStore()
    router = EventRouter(books)
    log = EventLog(100)
    router.add(
        Subscription(
            subscription_id="s",
            kind="test",
            token_ids=frozenset(),
            market_ids=frozenset(),
            event_types=frozenset({"feed_status"}),
            log=log,
        )
    )
    settings = Settings(redis_url=Secret(redis_server.url))
    try:
        async with RedisFeedBackend(
            settings, books=books, router=router, prefix="t9:", block_ms=50, retry_s=0.05
        ) as feed:
            await within(10, feed.wait_joined())
            stream = keys.channel_stream("status")
            await client.xadd(stream, {"e": _status("bad"), "s": "pub:NaN"})
            await client.xadd(stream, {"e": _status("good"), "s": "pub:2"})
            with anyio.fail_after(10):
                while log.last_seq < 1:
                    await log.wait(log.last_seq, 10)
            assert feed.reader.malformed == 1
            assert feed.link_up
        # 6b: a lease that is not JSON at all.
        await LeaseRegistry(client, keys, "good", ttl_s=30).write(Interest(assets=frozenset({"1"})))
        await client.sadd(keys.lease_set, "broken")
        await client.set(keys.lease("broken"), b"\xffnot json", px=30_000)
        union = await read_union(client, keys)
        assert union.malformed == ("broken",)
        assert union.servers == ("good",) and union.interest.assets == frozenset({"1"})
    finally:
        await client.aclose()


async def test_lag_is_positive_while_the_consumer_is_behind_a_growing_stream(redis_server: RedisServer) -> None:
    """Item 3: lag is measured against the stream heads, not always 0."""
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t12:")
    books = BookStore()
    settings = Settings(redis_url=Secret(redis_server.url))
    opts: dict[str, Any] = {"prefix": "t12:", "block_ms": 50, "retry_s": 0.05, "read_count": 1}
    try:
        async with RedisFeedBackend(settings, books=books, router=EventRouter(books), **opts) as feed:
            await within(10, feed.wait_joined())
            stream = keys.channel_stream("status")
            async with client.pipeline(transaction=False) as pipe:
                # 2000 entries spanning 2000 s of stream-id time; the consumer reads one per round trip.
                for i in range(2000):
                    pipe.xadd(stream, {"e": _status("x"), "r": "0"}, id=f"{4_000_000_000_000 + i * 1000}-0")
                await pipe.execute()
            assert await feed.refresh_status()
            lag = feed.status().as_dict()["shared_feed"]["lag"]
            assert lag["streams_behind"] >= 1 and lag["max_lag_ms"] > 0
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redis", "http://127.0.0.1:1/"], "--redis: expected a redis://"),
        (["--redis", "redis://127.0.0.1:1/0", "--lock-ttl-s", "0"], "--lock-ttl-s"),
        (["--redis", "redis://127.0.0.1:1/0", "--lease-poll-s", "-1"], "--lease-poll-s"),
        (["--redis", "redis://127.0.0.1:1/0", "--maxlen", "0"], "--maxlen"),
        (["--redis", "redis://127.0.0.1:1/0", "--prefix", "bad prefix!"], "--prefix"),
    ],
)
def test_feed_cli_rejects_invalid_arguments_with_exit_code_2(args: list[str], message: str, tmp_path: Path) -> None:
    """Item 6c."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "POLYMARKET_MCP_DATA_DIR": str(tmp_path)}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = subprocess.run(
        [sys.executable, "-m", "polymarket_realtime", "feed", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


async def test_duplicate_consumer_name_is_detected_and_cursors_not_shared(redis_server: RedisServer) -> None:
    """Item 9: a second live server with the same consumer name keeps its cursors in memory, and says so."""
    settings = Settings(redis_url=Secret(redis_server.url))
    b1, b2 = BookStore(), BookStore()
    opts: dict[str, Any] = {"prefix": "t10:", "block_ms": 50, "retry_s": 0.05, "consumer_name": "desk"}
    async with RedisFeedBackend(settings, books=b1, router=EventRouter(b1), **opts) as one:
        await within(10, one.wait_link(True))
        async with RedisFeedBackend(settings, books=b2, router=EventRouter(b2), **opts) as two:
            await within(10, two.wait_link(True))
            assert one.name_conflict is None and one.reader.consumer_name == "desk"
            assert two.name_conflict == one.server_id and two.reader.consumer_name is None
            assert two.status().as_dict()["shared_feed"]["consumer_name_conflict"] == one.server_id


async def test_trimmed_cursor_routes_a_gap_notice(redis_server: RedisServer) -> None:
    """Item 9: a restarted named consumer whose cursor was trimmed away is told about the gap."""
    client = aioredis.Redis.from_url(redis_server.url)
    keys = Keys("t11:")
    token = "7" * 70
    stream = keys.asset_stream(token)
    settings = Settings(redis_url=Secret(redis_server.url))
    try:
        await client.xadd(stream, {"e": _status("x"), "r": "0"}, id="1000-0")
        await client.hset(keys.cursors("desk"), mapping={stream: "1000-0"})
        await client.xadd(stream, {"e": _status("y"), "r": "0"}, id="2000-0")
        await client.xtrim(stream, minid="2000-0", approximate=False)
        books = BookStore()
        router = EventRouter(books)
        log = EventLog(100)
        router.add(
            Subscription(
                subscription_id="s",
                kind="test",
                token_ids=frozenset({token}),
                market_ids=frozenset(),
                event_types=frozenset({"feed_status"}),
                log=log,
            )
        )
        opts: dict[str, Any] = {"prefix": "t11:", "block_ms": 50, "retry_s": 0.05, "consumer_name": "desk"}
        async with RedisFeedBackend(settings, books=books, router=router, **opts) as feed:
            await feed.subscribe_assets([token])
            await within(10, feed.wait_joined())
            with anyio.fail_after(10):
                while log.last_seq < 1:
                    await log.wait(log.last_seq, 10)
            assert feed.reader.gaps == 1
        read = log.read(0, 10)
        event = read.entries[0].event
        assert isinstance(event, FeedStatus) and event.detail.startswith("gap:")
    finally:
        await client.aclose()
