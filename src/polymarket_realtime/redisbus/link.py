"""RedisLink: the state of one consumer's Redis link and the loops that keep it.

The reader loop connects (claiming the consumer name, writing the lease, replaying each token stream
from its newest snapshot) and reads; the housekeeper renews the lease every ``lease_ttl_s / 3`` and
measures the feed leader and lag. Contract (the rest is in :mod:`.consumer`):

* Redis outage: every book is marked stale ("Redis unreachable"), a ``feed_status`` (connection
  ``redis``, state ``disconnected``) is routed, and the reader retries with backoff. On recovery the
  lease is rewritten, each token stream is replayed from its newest snapshot (books fresh again, only
  entries after the cursor routed). If Redis restarted without persistence the streams are gone: books
  stay stale until the feed process republishes its checkpoints, which it does after every outage;
  events the feed could not buffer during the outage are lost (the feed counts them). A token subscribed
  while Redis is unreachable is kept and gets a ``feed_status`` (``disconnected``) saying so at once.
* No feed process: when no feed holds the leader lock on two lease renewals in a row, every book is
  marked stale and ``feed_status`` (``stale``, :data:`NO_FEED`) is routed; ``resynced`` follows once
  fresh snapshots arrive. ``get_realtime_status`` calls :meth:`~.consumer.RedisFeedBackend.refresh_status` (bounded).
* ``consumer_name`` is guarded by a lock (``{p}consumer:{name}``): a second live server with the same name
  keeps in-memory cursors (``name_conflict``, warning). A stored cursor that fell off the trimmed stream
  routes a ``feed_status`` (``resynced``, detail ``gap: ...``) for that token.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..clock import Clock
from ..feed.backoff import Backoff
from ..feed.desired import DesiredSubscriptions
from ..model.events import FeedStatus
from ..secrets import redactor
from .ha import RedisLock
from .keys import Keys
from .leases import LeaseRegistry
from .ownership import SessionOwnership
from .reader import StreamReader
from .streams import text

if TYPE_CHECKING:
    from ..feed.books import BookStore
    from ..routing.router import EventRouter

__all__ = ["NO_FEED", "RedisLink"]

log = logging.getLogger(__name__)
NO_FEED = "no feed process is publishing: start `polymarket-realtime-mcp feed`"


class RedisLink:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        url: str,
        *,
        books: BookStore,
        router: EventRouter,
        reader: StreamReader,
        lease: LeaseRegistry,
        sessions: SessionOwnership,
        wants: DesiredSubscriptions,
        name_lock: RedisLock | None,
        consumer_name: str | None,
        retry_s: float,
        clock: Clock,
    ) -> None:
        self._client = client
        self._keys = keys
        self.url = url
        self._books = books
        self._router = router
        self._reader = reader
        self._lease = lease
        self._sessions = sessions
        self._wants = wants
        self.name_lock = name_lock
        self.consumer_name = consumer_name
        self._retry_s = retry_s
        self._clock = clock
        self.name_conflict: str | None = None
        """The other live server using ``consumer_name`` (this one then keeps its cursors in memory)."""
        self._link_changed = anyio.Event()
        self.link_up = False
        self.ever_up = False
        self.connected_since: float | None = None
        self.down_since: float | None = None
        self.last_error: str | None = None
        self.reconnects = 0
        self.run_id: str | None = None
        self.feed_leader: str | None = None
        self.leaderless = False
        """True while no feed process holds the leader lock (books stale, ``feed_status: stale`` routed)."""
        self._leaderless_checks = 0
        self.measured_monotonic: float | None = None
        reader.on_recovered = self.recovered
        reader.on_gap = self.gap

    async def run_reader(self) -> None:
        backoff = Backoff(self._retry_s, max(self._retry_s, min(5.0, self._retry_s * 8)))
        while True:
            try:
                if not self.link_up:
                    await self._connect()
                if self._reader.pending:
                    await self._reader.join_pending()
                await self._reader.read_once()
                backoff.reset()
            except (RedisError, OSError) as exc:
                self.down(exc)
                await anyio.sleep(backoff.next_delay())

    async def _connect(self) -> None:
        await self._client.ping()
        info = await self._client.info("server")
        run_id = str(info.get("run_id", ""))
        restarted = self.run_id is not None and run_id != self.run_id
        self.run_id = run_id
        if not self.ever_up:
            await self._claim_name()
            await self._reader.load_saved()
        await self._lease.write(self._wants.interest())
        # Replay every token stream from its newest snapshot: fresh books, nothing routed twice.
        for stream in [*self._reader.cursors, *(self._keys.asset_stream(a) for a in self._wants.assets)]:
            self._reader.rejoin(stream)
        self.link_up = True
        self._signal_link()
        self._sessions.poke()
        self.connected_since = self._clock.time_ns() / 1e9
        if self.ever_up:
            self.reconnects += 1
            detail = "Redis reachable again"
            if restarted:
                detail += " (Redis restarted: books stay stale until the feed process republishes them)"
            log.info("shared feed: %s", detail)
            self.route_status("connected", detail, tuple(self._wants.assets))
        self.ever_up = True
        self.down_since = None

    def down(self, exc: BaseException) -> None:
        self.last_error = redactor.scrub(f"Redis unreachable at {self.url}: {type(exc).__name__}: {exc}")
        if not self.link_up:
            return
        self.link_up = False
        self._signal_link()
        self._reader.unjoined()
        self._sessions.suspect(type(exc).__name__)  # cannot renew: stop acting as owner (ownership.py)
        self.connected_since = None
        self.down_since = self._clock.time_ns() / 1e9
        log.warning("shared feed: %s", self.last_error)
        assets = tuple(self._wants.assets)
        self._books.mark_stale(assets, f"shared feed interrupted: Redis unreachable at {self.url}")
        self._reader.recovering.update(a for a in assets if a in self._books)
        self.route_status("disconnected", self.last_error, assets)

    async def _claim_name(self) -> None:
        """Consumer names must be unique among live servers: two would overwrite each other's cursors."""
        if self.name_lock is None or await self.name_lock.acquire():
            return
        self.name_conflict = await self.name_lock.holder() or "another server"
        log.warning(
            "POLYMARKET_MCP_REDIS_CONSUMER=%s is already used by the live server %s: this server keeps its "
            "cursors in memory only (no restart guarantee); give each server its own consumer name",
            self.consumer_name,
            self.name_conflict,
        )
        self._reader.consumer_name = None

    def gap(self, asset: str, cursor: str, first_id: str) -> None:
        detail = (
            f"gap: this consumer's cursor {cursor} fell behind the stream's first entry {first_id} (the feed trims "
            "each stream to its MAXLEN); events in between were lost here, the book is rebuilt from the newest snapshot"
        )
        log.warning("shared feed: token %s: %s", asset, detail)
        self.route_status("resynced", detail, (asset,))

    def _signal_link(self) -> None:
        changed, self._link_changed = self._link_changed, anyio.Event()
        changed.set()

    async def wait_link(self, up: bool = True) -> None:
        """Return once the Redis link is up (or down, with ``up=False``)."""
        while self.link_up != up:
            await self._link_changed.wait()

    async def wait_joined(self) -> None:
        """Return once Redis is reachable and every stream subscribed so far is being read."""
        while True:
            await self._reader.wait_joined()
            if self.link_up:
                return
            await self.wait_link(up=True)

    async def release(self, *, close_client: bool) -> None:
        """On shutdown: drop this server's lease, sessions and consumer name (the next owner need not wait)."""
        if self.link_up:
            with contextlib.suppress(RedisError, OSError):
                await self._lease.delete()
            await self._sessions.release()
        if self.name_lock is not None:
            await self.name_lock.release()
        if close_client:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()

    def recovered(self) -> None:
        if self.link_up:
            # Fresh snapshots arrived, so a feed process is publishing again.
            self.leaderless = False
            self._leaderless_checks = 0
            detail = "books rebuilt from the shared feed after the outage"
            self.route_status("resynced", detail, tuple(self._wants.assets))

    def route_status(self, state: str, detail: str, assets: tuple[str, ...]) -> None:
        event = FeedStatus(
            ts_event_ms=0,
            ts_recv_ns=self._clock.time_ns(),
            channel="market",
            connection_id="redis",
            state=state,  # type: ignore[arg-type]  # "connected" / "disconnected"
            detail=detail,
            asset_ids=assets,
        )
        self._router.route(event)

    async def run_housekeeper(self) -> None:
        while True:
            await anyio.sleep(self._lease.renew_interval_s)
            if not self.link_up:
                continue
            try:
                await self._lease.write(self._wants.interest())
                if self.name_lock is not None and self.name_conflict is None:
                    await self.name_lock.acquire()
                await self._measure()
            except (RedisError, OSError) as exc:
                self.down(exc)

    async def refresh_status(self, timeout_s: float = 0.5) -> bool:
        """Update leader and lag now, bounded by ``timeout_s``; False (cached values kept) when Redis is slow/down.

        ``status()`` reports when the values were measured (``measured_age_s``).
        """
        if not self.link_up:
            return False
        with anyio.move_on_after(timeout_s):
            try:
                await self._measure()
            except (RedisError, OSError) as exc:
                self.down(exc)
                return False
            return True
        return False

    async def _measure(self) -> None:
        holder = await self._client.get(self._keys.leader)
        self.feed_leader = text(holder) if holder is not None else None
        await self._reader.measure_heads()
        self.measured_monotonic = self._clock.monotonic()
        self._check_leader()

    def _check_leader(self) -> None:
        """No feed process holds the leader lock: books go stale and subscribers are told what to do."""
        if self.feed_leader is not None:
            self._leaderless_checks = 0
            if self.leaderless:
                self.leaderless = False
                log.info("shared feed: feed process %s is publishing again", self.feed_leader)
            return
        self._leaderless_checks += 1
        # Two checks in a row (one renew interval apart): a standby taking over is not an outage.
        if self.leaderless or self._leaderless_checks < 2:
            return
        self.leaderless = True
        assets = tuple(self._wants.assets)
        log.warning("shared feed: %s", NO_FEED)
        self._books.mark_stale(assets, f"shared feed: {NO_FEED}")
        self._reader.recovering.update(a for a in assets if a in self._books)
        self.route_status("stale", NO_FEED, assets)
