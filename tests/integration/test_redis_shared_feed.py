"""Shared feed end to end: simulator -> feed process(es) -> real redis-server -> MCP servers (SDK Client)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
import redis.asyncio as aioredis
from mcp import Client

from polymarket_realtime.config import Settings
from polymarket_realtime.model.events import decode_event
from polymarket_realtime.redisbus.consumer import RedisFeedBackend
from polymarket_realtime.redisbus.feedproc import FeedProcess
from polymarket_realtime.redisbus.keys import DEFAULT_PREFIX, Keys
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.redis_fixtures import RedisServer, redis_server, wait_redis

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
__all__ = ["redis_server"]

PREFIX = "e2e:"


async def until_seq(log: EventLog, n: int, within_s: float = 10.0) -> None:
    """Wait (no polling) until the subscription log holds at least ``n`` entries."""
    with anyio.fail_after(within_s):
        while log.last_seq < n:
            await log.wait(log.last_seq, within_s)


async def within(seconds: float, waiter: Awaitable[None]) -> None:
    with anyio.fail_after(seconds):
        await waiter


@pytest.fixture
async def simulator(anyio_backend: str) -> AsyncIterator[Simulator]:
    """Busier than the shared fixture (3 markets, 150 events/s) so each test collects its events fast."""
    async with Simulator(SimulatorConfig(seed=11, markets=3, rate_per_s=150.0, resolve_after_s=None)) as sim:
        yield sim


def sim_settings_for(sim: Simulator, data_dir: Path) -> Settings:
    base = Settings.from_env(
        {
            **sim.env(),
            "POLYMARKET_PING_INTERVAL_S": "0.2",
            "POLYMARKET_PONG_TIMEOUT_S": "1.0",
            "POLYMARKET_RECONNECT_BASE_S": "0.05",
            "POLYMARKET_RECONNECT_MAX_S": "0.5",
            "POLYMARKET_SNAPSHOT_FALLBACK_S": "0.5",
        },
        env_file=Path(os.devnull),
    )
    return base.replace(data_dir=data_dir)


def server_settings(feed_settings: Settings, redis: RedisServer, data_dir: Path, **extra: str) -> Settings:
    return feed_settings.replace(
        redis_url=Secret(redis.url),
        data_dir=data_dir,
        redis_prefix=PREFIX,
        redis_lease_ttl_s=2.0,
        extra={"redis_block_ms": "50", **extra},
    )


class Feeds:
    """Feed processes running as tasks, each with its own Redis client and cancel scope."""

    def __init__(self, tg: anyio.abc.TaskGroup, settings: Settings, url: str) -> None:
        self.tg, self.settings, self.url = tg, settings, url
        self.procs: list[FeedProcess] = []
        self.scopes: list[anyio.CancelScope] = []

    async def start(self, prefix: str = PREFIX) -> FeedProcess:
        client = aioredis.Redis.from_url(self.url, socket_timeout=3, socket_connect_timeout=1)
        feed = FeedProcess(self.settings, client, prefix=prefix, lock_ttl_s=1.0, lease_poll_s=0.1, lease_grace_s=3.0)
        scope = anyio.CancelScope()
        self.procs.append(feed)
        self.scopes.append(scope)

        async def run() -> None:
            with scope:
                try:
                    await feed.run()
                finally:
                    with anyio.CancelScope(shield=True):
                        await client.aclose()

        self.tg.start_soon(run)
        return feed

    def leader(self) -> FeedProcess | None:
        return next((f for f in self.procs if f.role == "leader"), None)


@contextlib.asynccontextmanager
async def feeds_running(settings: Settings, url: str) -> AsyncIterator[Feeds]:
    async with anyio.create_task_group() as tg:
        feeds = Feeds(tg, settings, url)
        yield feeds
        tg.cancel_scope.cancel()


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def read_until(
    client: Client, sub_id: str, after: int, done: Callable[[list[dict[str, Any]]], bool], within_s: float = 20.0
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with anyio.fail_after(within_s):
        while not done(events):
            page = await call(client, "get_events", {"subscription_id": sub_id, "after_seq": after, "wait_s": 2})
            events += page["events"]
            after = page["next_seq"]
    return events


def _state_seen(events: list[dict[str, Any]], state: str) -> bool:
    return any(e["type"] == "feed_status" and e["data"].get("state") == state for e in events)


async def read_events(client: Client, sub_id: str, after: int, n: int, within_s: float = 15.0) -> list[dict[str, Any]]:
    """At least ``n`` events after ``after`` via get_events long-polls."""
    events: list[dict[str, Any]] = []
    with anyio.fail_after(within_s):
        while len(events) < n:
            page = await call(client, "get_events", {"subscription_id": sub_id, "after_seq": after, "wait_s": 2})
            events += page["events"]
            after = page["next_seq"]
    return events


def backend_of(server: Any) -> RedisFeedBackend:
    feed = server.running_app().feed
    assert isinstance(feed, RedisFeedBackend)
    return feed


def fingerprint(event: dict[str, Any]) -> tuple[Any, ...]:
    """The event itself (the local book view a depth subscription attaches is left out: its age differs)."""
    data = sorted((k, v) for k, v in event["data"].items() if k != "book")
    return (event["type"], event["token_id"], event["ts_event"], event["ts_recv"], repr(data))


async def test_two_servers_share_one_feed_and_see_the_same_events(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        feed = await feeds.start()
        one = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        two = create_server(server_settings(base, redis_server, tmp_path / "s2"), extensions=[])
        async with Client(one) as c1, Client(two) as c2:
            sub1 = (await call(c1, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            await simulator.observed.wait_until(lambda: token in simulator.observed.subscribed_assets())
            first = await read_events(c1, sub1, 0, 5)
            sub2 = (await call(c2, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            second = await read_events(c2, sub2, 0, 30)
            # Server 1 reads on until it has seen server 2's last event.
            last = fingerprint(second[-1])
            more = first
            with anyio.fail_after(15):
                while last not in {fingerprint(e) for e in more}:
                    more += await read_events(c1, sub1, more[-1]["seq"], 1)
            status = await call(c2, "get_realtime_status", {})  # refreshes leader and heads by itself
        one_fp = [fingerprint(e) for e in more]
        two_fp = [fingerprint(e) for e in second]
        # Dense cursors in both servers.
        assert [e["seq"] for e in more] == list(range(1, len(more) + 1))
        assert [e["seq"] for e in second] == list(range(1, len(second) + 1))
        # Server 2 joined from the newest snapshot: its events are one contiguous run of server 1's.
        assert second[0]["type"] == "book"
        start = one_fp.index(two_fp[0])
        assert one_fp[start : start + len(two_fp)] == two_fp
        # Exactly one upstream subscription for the two servers, and the status shows the shared link.
        assert simulator.observed.subscribed_assets() == {token}
        assert len(simulator.observed.open_on("/ws/market")) == 1
        assert status["connections"]["redis"]["state"] == "connected"
        shared = status["shared_feed"]
        assert shared["link"] == "up" and shared["feed_leader"] == feed.token
        assert shared["lag"]["streams"] >= 3 and shared["feed_publishing"] is True
        assert shared["measured_age_s"] is not None and shared["measured_age_s"] < 5
        assert feed.role == "leader"


async def test_killed_server_lease_expires_and_feed_unsubscribes(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    base = sim_settings_for(simulator, tmp_path / "feed")
    markets = simulator.model.active_markets()
    keep, doomed = markets[0].token_ids[0], markets[1].token_ids[0]
    script = (
        "import sys, anyio\n"
        "from polymarket_realtime.config import Settings\n"
        "from polymarket_realtime.secrets import Secret\n"
        "from polymarket_realtime.feed.books import BookStore\n"
        "from polymarket_realtime.routing.router import EventRouter\n"
        "from polymarket_realtime.redisbus.consumer import RedisFeedBackend\n"
        "async def main():\n"
        "    b = BookStore()\n"
        "    async with RedisFeedBackend(Settings(redis_url=Secret(sys.argv[1])), books=b, router=EventRouter(b),\n"
        "                                prefix=sys.argv[2], lease_ttl_s=1.0) as f:\n"
        "        await f.subscribe_assets([sys.argv[3]])\n"
        "        await f.wait_link(True)\n"
        "        print('ready', flush=True)\n"
        "        await anyio.sleep_forever()\n"
        "anyio.run(main)\n"
    )
    async with feeds_running(base, redis_server.url) as feeds:
        feed = await feeds.start()
        server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        async with Client(server) as client:
            await call(client, "subscribe_market_prices", {"token_ids": [keep]})
            proc = await anyio.open_process([sys.executable, "-c", script, redis_server.url, PREFIX, doomed])
            try:
                assert proc.stdout is not None
                with anyio.fail_after(20):
                    line = await proc.stdout.receive()
                assert b"ready" in line
                await simulator.observed.wait_until(lambda: {keep, doomed} <= simulator.observed.subscribed_assets())
                assert doomed in feed.interest.assets
                proc.send_signal(signal.SIGKILL)  # no clean shutdown: the lease must expire by itself
                await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await simulator.observed.wait_until(lambda: doomed not in simulator.observed.subscribed_assets(), 10)
            assert keep in simulator.observed.subscribed_assets()
            assert feed.interest.assets == {keep}


async def test_feed_failover_standby_takes_over(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        first = await feeds.start()
        await within(10, first.wait_role("leader"))
        second = await feeds.start()
        server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        async with Client(server) as client:
            sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            before = await read_events(client, sub, 0, 5)
            assert second.role == "standby"
            await backend_of(server).refresh_status()
            assert backend_of(server).status().as_dict()["shared_feed"]["feed_leader"] == first.token
            # The leader dies without releasing its lock (its task is cancelled with the lock left in Redis).
            first.lock.held = False
            feeds.scopes[0].cancel()
            await within(8, second.wait_role("leader"))  # lock TTL 1 s + one standby attempt interval
            after = await read_events(client, sub, before[-1]["seq"], 10)
            await backend_of(server).refresh_status()
            leader = backend_of(server).status().as_dict()["shared_feed"]["feed_leader"]
        assert leader == second.token
        assert [e["seq"] for e in before + after] == list(range(1, len(before) + len(after) + 1))
        # The new leader's fresh snapshot reached the server, and live events continue after it.
        types = [e["type"] for e in after]
        assert "book" in types and types.index("book") < len(types) - 1


async def test_redis_restart_degrades_then_recovers(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    async with feeds_running(base, redis_server.url) as feeds:
        await feeds.start()
        server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
        async with Client(server) as client:
            sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            before = await read_events(client, sub, 0, 3)
            backend = backend_of(server)
            app = server.running_app()
            await anyio.to_thread.run_sync(redis_server.stop)  # off the event loop: the feed runs on it
            await within(10, backend.wait_link(up=False))
            book = app.books.get(token)
            assert book is not None and book.stale and "Redis unreachable" in book.stale_reason
            status = await call(client, "get_realtime_status", {})
            assert status["connections"]["redis"]["state"] == "disconnected"
            assert "Redis unreachable" in status["connections"]["redis"]["last_error"]
            await anyio.to_thread.run_sync(redis_server.start)  # same port, empty (no persistence)
            await within(15, backend.wait_link(up=True))
            # The feed republishes its books after the outage: the local book turns fresh by itself and
            # the subscription is told so ("resynced"), then live events continue.
            after = await read_until(client, sub, before[-1]["seq"], lambda evs: _state_seen(evs, "resynced"))
            after += await read_events(client, sub, after[-1]["seq"], 3)
        events = before + after
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        # The Redis link's own statuses, in order (the feed's socket may add its own on a loaded machine).
        link = [
            e["data"]["state"] for e in after if e["type"] == "feed_status" and e["data"]["connection_id"] == "redis"
        ]
        assert link == ["disconnected", "connected", "resynced"]
        fps = [fingerprint(e) for e in events]
        assert len(fps) == len(set(fps))  # nothing delivered twice


async def test_dropped_connections_lose_and_duplicate_nothing(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    probe = aioredis.Redis.from_url(redis_server.url)
    try:
        async with feeds_running(base, redis_server.url) as feeds:
            await feeds.start()
            server = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[])
            async with Client(server) as client:
                sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
                before = await read_events(client, sub, 0, 5)
                backend = backend_of(server)
                reconnects = backend.reconnects
                # Drop every client connection; the stream survives (Redis keeps running).
                await probe.client_kill_filter(_type="normal", skipme=True)
                await within(10, backend.wait_link(up=False))
                await within(10, backend.wait_link(up=True))
                assert backend.reconnects == reconnects + 1
                after = await read_events(client, sub, before[-1]["seq"], 15)
            stream = Keys(PREFIX).asset_stream(token)
            entries = await probe.xrange(stream, "-", "+")
    finally:
        await probe.aclose()
    got_keys = [fingerprint(e)[:4] for e in before + after if e["type"] != "feed_status"]
    # Every routed stream entry between the first and last one received, exactly once and in order.
    published = []
    for _id, fields in entries:
        event = decode_event(fields[b"e"])
        if fields.get(b"r") != b"0" and event.type != "feed_status":
            published.append((event.type, getattr(event, "asset_id", None), event.ts_event_ms, event.ts_recv_ns))
    start = published.index(got_keys[0])
    assert published[start : start + len(got_keys)] == got_keys


async def test_paper_sessions_run_in_one_server_only(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    from polymarket_realtime.server.ext_paper import EXTENSION as PAPER

    base = sim_settings_for(simulator, tmp_path / "feed")
    owner = create_server(server_settings(base, redis_server, tmp_path / "s1"), extensions=[PAPER])
    other = create_server(server_settings(base, redis_server, tmp_path / "s2"), extensions=[PAPER])
    async with Client(owner) as c1:
        listed = await call(c1, "list_paper_sessions", {})
        async with Client(other) as c2:
            refused = await c2.call_tool("list_paper_sessions", {})
            owner_id = backend_of(owner).server_id
        assert backend_of(owner).sessions.held
    # The owner answers normally: a real (empty) session list, not an error.
    assert listed["sessions"] == [] and isinstance(listed["counts"], dict)
    assert refused.is_error
    text = " ".join(getattr(block, "text", "") for block in refused.content)
    assert "owned by another MCP server" in text and owner_id in text


async def test_feed_cli_failover_after_sigkill(simulator: Simulator, redis_server: RedisServer, tmp_path: Path) -> None:
    """Two real `feed` processes; SIGKILL the leader; the standby publishes within a few seconds."""
    from polymarket_realtime.feed.books import BookStore
    from polymarket_realtime.routing.router import EventRouter, Subscription

    prefix = "cli:"
    token = simulator.model.active_markets()[0].token_ids[0]
    env = {
        **os.environ,
        **simulator.env(),
        "POLYMARKET_MCP_DATA_DIR": str(tmp_path / "feeds"),
        "POLYMARKET_RECONNECT_BASE_S": "0.05",
        "POLYMARKET_RECONNECT_MAX_S": "0.5",
        "POLYMARKET_SNAPSHOT_FALLBACK_S": "0.5",
    }
    env.pop("POLYMARKET_MCP_REDIS_URL", None)
    cmd = [sys.executable, "-m", "polymarket_realtime", "feed", "--redis", redis_server.url, "--prefix", prefix]
    cmd += ["--lock-ttl-s", "1", "--lease-poll-s", "0.1"]
    procs: dict[int, anyio.abc.Process] = {}
    books = BookStore()
    router = EventRouter(books)
    sub = router.add(Subscription("s", "t", frozenset({token}), frozenset(), frozenset({"book", "price_change"})))
    log: EventLog = sub.log
    probe = aioredis.Redis.from_url(redis_server.url)
    consumer = RedisFeedBackend(
        Settings(redis_url=Secret(redis_server.url)), books=books, router=router, prefix=prefix, block_ms=50
    )

    async def leader_pid() -> int | None:
        token_ = await probe.get(Keys(prefix).leader)
        return int(token_.decode().split(":")[1]) if token_ else None

    try:
        for _ in range(2):
            proc = await anyio.open_process(cmd, env=env, stdout=None, stderr=None)
            procs[proc.pid] = proc
        async with consumer:
            await consumer.subscribe_assets([token])
            await until_seq(log, 5, within_s=30)
            first = await leader_pid()
            assert first in procs
            procs[first].send_signal(signal.SIGKILL)
            await procs[first].wait()
            seen_at_kill = log.last_seq
            # TTL 1 s + one standby attempt (1/3 s); bounded generously for a loaded machine.
            await wait_redis(
                redis_server.url, lambda: _is_other(leader_pid(), first), keys=[Keys(prefix).leader], within_s=10
            )
            await until_seq(log, seen_at_kill + 5, within_s=15)
        second = await leader_pid()
        assert second is not None
        # A clean stop (SIGTERM) releases the lock at once instead of letting it expire.
        procs[second].send_signal(signal.SIGTERM)
        with anyio.fail_after(15):
            await procs[second].wait()
        assert procs[second].returncode == 0
        assert await leader_pid() is None
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.terminate()
                with anyio.move_on_after(5):
                    await proc.wait()
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        await probe.aclose()
    assert second is not None and second != first and second in procs
    seqs = [e.seq for e in log.read(0, 10_000).entries]
    assert seqs == list(range(1, len(seqs) + 1))


async def _is_other(pid: Awaitable[int | None], old: int | None) -> bool:
    value = await pid
    return value is not None and value != old


async def test_stdio_serve_with_redis_url_uses_the_shared_feed(
    simulator: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """The real entry point: `serve` with POLYMARKET_MCP_REDIS_URL reads the feed from Redis."""
    from mcp import StdioServerParameters

    base = sim_settings_for(simulator, tmp_path / "feed")
    token = simulator.model.active_markets()[0].token_ids[0]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "polymarket_realtime", "serve"],
        env={
            **simulator.env(),
            "POLYMARKET_MCP_REDIS_URL": redis_server.url,
            "POLYMARKET_MCP_DATA_DIR": str(tmp_path / "stdio"),
            "POLYMARKET_MCP_TOOLSETS": "market,realtime",
        },
        cwd=str(tmp_path),
    )
    async with feeds_running(base, redis_server.url) as feeds:
        await feeds.start(prefix=DEFAULT_PREFIX)  # `serve` uses the default key namespace
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            sub = (await call(client, "subscribe_orderbook_updates", {"token_ids": [token]}))["subscription_id"]
            events = await read_events(client, sub, 0, 3, within_s=30)
            status = await call(client, "get_realtime_status", {})
    # The feed's "connected" status (status stream) may come before the book (token stream).
    assert "book" in [e["type"] for e in events] and [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert status["connections"]["redis"]["state"] == "connected"
    assert status["shared_feed"]["link"] == "up"
    assert redis_server.url not in str(status)  # the URL is a secret; status shows host:port only
