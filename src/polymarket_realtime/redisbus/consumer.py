"""``RedisFeedBackend``: the MCP server's feed when ``POLYMARKET_MCP_REDIS_URL`` is set.

The ``FeedBackend`` facade; the link state and its reader and lease loops are :mod:`.link`, and the
stream reader, leases, ownership, wanted set and status are their own modules.

It stands in for the :class:`~polymarket_realtime.feed.manager.WebSocketManager` (same
``FeedBackend`` methods) but opens **no upstream socket**. Contract:

* ``subscribe_*``/``unsubscribe_*`` are ref-counted like the manager's; the resulting interest is
  written as this server's lease (``leases.py``), renewed every ``lease_ttl_s / 3``; the feed process
  subscribes upstream to the union of live leases.
* One reader task ``XREAD``s every stream it needs from per-stream cursors (stream ids), applies each
  event to the local :class:`BookStore` and routes it through the local :class:`EventRouter`, in
  stream order, so every tool behaves as in embedded mode. A token stream is joined by replaying it
  from its newest ``book`` entry (``{p}lastbook:{token}``), so the local book is complete at once.
* No duplicate or lost events: cursors only move forward, and an entry whose publisher sequence number
  (field ``s``) was already seen on that stream (a batch re-sent after Redis restarted) is applied to the
  books but not routed again. With ``consumer_name`` set the cursors are also stored in Redis
  (``{p}cursors:{name}``); a restarted consumer of that name rebuilds its books from the newest snapshot
  but routes only entries after its stored cursor.
* The link to Redis (outages, a missing feed process, the consumer-name lock) is :mod:`.link`.
* Paper-session ownership (``ownership.py``) is suspended whenever the link drops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import ConfigError
from ..feed.contract import FeedChannel, UserChannelState
from ..feed.desired import DesiredSubscriptions, Interest
from ..feed.stats import FeedStatistics
from ..feed.status import FeedStatusReport
from .client import connect_redis
from .consumer_status import consumer_status
from .ha import RedisLock, new_owner_token
from .keys import DEFAULT_PREFIX, Keys
from .leases import LeaseRegistry
from .link import RedisLink
from .ownership import SessionOwnership
from .reader import StreamReader
from .streams import safe_url

if TYPE_CHECKING:
    from ..feed.books import BookStore
    from ..feed.connection import RawTap
    from ..feed.contract import CredentialsProvider
    from ..feed.user_gap import UserRestSource
    from ..routing.router import EventRouter

__all__ = ["RedisFeedBackend", "redis_feed_factory"]

log = logging.getLogger(__name__)

_ALWAYS = ("status", "market_events")


class RedisFeedBackend:
    """Consume the shared feed from Redis.

    Args:
        settings: ``redis_url`` is used unless ``client`` is given.
        books / router: the server's local BookStore and EventRouter.
        client: an existing Redis client (closed by the caller).
        prefix: key namespace (``keys.py``).
        server_id: lease owner id (default: a fresh ``server@host:pid:uuid``).
        consumer_name: stable name to persist cursors across restarts (None = in-memory cursors).
        lease_ttl_s: lease lifetime; the feed drops a dead server's interest after it.
        block_ms: XREAD block time (also the longest delay before a new stream joins the read).
        read_count: entries per stream per read.
        retry_s: first reconnect delay (exponential with jitter up to 8x, at most 5 s).
    """

    receives_raw_frames = False
    """Raw venue frames stay in the feed process; see :meth:`add_raw_tap`."""

    def __init__(
        self,
        settings: Settings,
        *,
        books: BookStore,
        router: EventRouter,
        client: aioredis.Redis | None = None,
        prefix: str = DEFAULT_PREFIX,
        server_id: str | None = None,
        consumer_name: str | None = None,
        lease_ttl_s: float = 15.0,
        block_ms: int = 250,
        read_count: int = 1000,
        retry_s: float = 0.25,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if client is None:
            if settings.redis_url is None:
                raise ConfigError("POLYMARKET_MCP_REDIS_URL", "required for the Redis feed backend")
            url = settings.redis_url.reveal()
            self.url = safe_url(url)
            client = connect_redis(url, timeout_s=max(2.0, block_ms / 1000 + 2.0))
            self._owns_client = True
        else:
            self.url = "redis (client supplied)"
            self._owns_client = False
        self.client = client
        self.keys = Keys(prefix)
        self.server_id = server_id or new_owner_token("server")
        self.consumer_name = consumer_name
        self._books = books
        self._router = router
        self._clock = clock
        self.stats = FeedStatistics(clock)
        self.lease = LeaseRegistry(client, self.keys, self.server_id, ttl_s=lease_ttl_s)
        self.sessions = SessionOwnership(client, self.keys, self.server_id, ttl_s=lease_ttl_s)
        """Paper sessions/agents run in one server only: tools call ``await sessions.ensure()``."""
        # Desired state (ref counts).
        self.wants = DesiredSubscriptions()
        self._assets = self.wants.assets  # read-only alias (wanted tokens)
        self._warned_taps = False
        self.reader = StreamReader(
            client,
            self.keys,
            books=books,
            router=router,
            stats=self.stats,
            clock=clock,
            wanted=self.wants.assets.__contains__,
            consumer_name=consumer_name,
            block_ms=block_ms,
            read_count=read_count,
        )
        name_lock = (
            RedisLock(client, self.keys.consumer_lock(consumer_name), self.server_id, ttl_s=lease_ttl_s)
            if consumer_name
            else None
        )
        for channel in _ALWAYS:
            self.reader.add(self.keys.channel_stream(channel))
        self.link = RedisLink(
            client,
            self.keys,
            self.url,
            books=books,
            router=router,
            reader=self.reader,
            lease=self.lease,
            sessions=self.sessions,
            wants=self.wants,
            name_lock=name_lock,
            consumer_name=consumer_name,
            retry_s=retry_s,
            clock=clock,
        )
        self._tg: anyio.abc.TaskGroup | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> RedisFeedBackend:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self.link.run_reader, name="redis-feed-reader")
        self._tg.start_soon(self.link.run_housekeeper, name="redis-feed-lease")
        self._tg.start_soon(self.sessions.run, name="redis-session-ownership")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        with anyio.CancelScope(shield=True), anyio.move_on_after(2.0):
            await self.link.release(close_client=self._owns_client)

    # --- FeedBackend: subscriptions -----------------------------------------------------------------

    async def subscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Hold the tokens (ref-counted); returns the ones new to this server (their streams are joined)."""
        new = self.wants.add_assets(asset_ids)
        for a in new:
            self.reader.add(self.keys.asset_stream(a))
        if new:
            await self._interest_changed()
            if not self.link_up and self.last_error is not None:
                # Kept (written to the lease on reconnect); tell the subscriber why nothing arrives yet.
                detail = (
                    f"{self.last_error}; the subscription is kept and its data starts when Redis is reachable again"
                )
                self.link.route_status("disconnected", detail, tuple(new))
        return new

    async def unsubscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Release the tokens; returns the ones this server no longer reads (books discarded)."""
        gone = self.wants.remove_assets(asset_ids)
        for a in gone:
            self.reader.drop(self.keys.asset_stream(a))
            self.reader.recovering.discard(a)
            self._books.discard(a)
        if gone:
            await self._interest_changed()
        return gone

    async def subscribe_market_events(self) -> None:
        if self.wants.add_market_events():
            await self._interest_changed()

    async def unsubscribe_market_events(self) -> None:
        if self.wants.remove_market_events():
            await self._interest_changed()

    async def subscribe_rtds(self, topic: str, type: str = "*") -> None:
        if self.wants.add_rtds(topic, type):
            self._join_channel("rtds")
            await self._interest_changed()

    async def unsubscribe_rtds(self, topic: str, type: str = "*") -> None:
        if self.wants.remove_rtds(topic, type):
            if not self.wants.rtds:
                self._leave_channel("rtds")
            await self._interest_changed()

    async def subscribe_reference_prices(self, keys: Iterable[str]) -> list[str]:
        """PolyBolt keys; the feed process authenticates with its own account credentials."""
        new = self.wants.add_reference(keys)
        if new:
            self._join_channel("polybolt")
            await self._interest_changed()
        return new

    async def unsubscribe_reference_prices(self, keys: Iterable[str]) -> list[str]:
        gone = self.wants.remove_reference(keys)
        if gone:
            if not self.wants.reference:
                self._leave_channel("polybolt")
            await self._interest_changed()
        return gone

    def set_polybolt_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        """Ignored: in shared-feed mode the feed process holds the account credentials."""

    async def subscribe_sports(self) -> None:
        if self.wants.add_sports():
            self._join_channel("sports")
            await self._interest_changed()

    async def unsubscribe_sports(self) -> None:
        if self.wants.remove_sports():
            self._leave_channel("sports")
            await self._interest_changed()

    async def subscribe_user_markets(self, condition_ids: Iterable[str]) -> None:
        """The feed process's account, in these markets (empty = all markets). Ref-counted."""
        if self.wants.add_user(condition_ids):
            self._join_channel("user")
            await self._interest_changed()

    async def unsubscribe_user_markets(self, condition_ids: Iterable[str]) -> None:
        if self.wants.remove_user(condition_ids):
            if not self.wants.wants_user:
                self._leave_channel("user")
            await self._interest_changed()

    def set_user_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        """Ignored: in shared-feed mode the feed process holds the account credentials."""

    def set_user_rest(self, source: UserRestSource | None) -> None:
        """Ignored: the feed process owns the user socket and recovers its gaps itself."""

    def user_auth_problem(self) -> str | None:
        """None: the user socket (and its credentials) belong to the feed process."""
        return None

    async def wait_user_first_attempt(self, timeout_s: float) -> None:
        """Returns at once: no user socket opens in this process."""

    def user_channel_state(self) -> UserChannelState:
        """``("active", "")``: the feed process's account streams through Redis once subscribed."""
        return "active", ""

    def asset_feed_state(self, asset_id: str) -> str:
        """What the local book of ``asset_id`` shows (the sockets are the feed process's)."""
        book = self._books.get(asset_id)
        if book is None:
            return "subscribed, no book received yet"
        return f"book stale: {book.stale_reason or 'feed disconnected or silent'}"

    def add_raw_tap(self, callback: RawTap) -> Callable[[], None]:
        """Raw venue frames never reach this process; the tap is kept but never called."""
        if not self._warned_taps:
            self._warned_taps = True
            log.warning("raw frame taps receive nothing in shared-feed (Redis) mode: run `record` next to the feed")

        def remove() -> None:
            return None

        return remove

    async def force_reconnect(self, channel: FeedChannel = "market") -> int:
        """Drop and re-establish the Redis link (the upstream sockets belong to the feed process)."""
        self.link.down(ConnectionError(f"reconnect requested ({channel})"))
        return 1

    def interest(self) -> Interest:
        return self.wants.interest()

    async def wait_joined(self) -> None:
        """Return once Redis is reachable and every stream subscribed so far is being read."""
        await self.link.wait_joined()

    def _join_channel(self, channel: str) -> None:
        self.reader.add(self.keys.channel_stream(channel))

    def _leave_channel(self, channel: str) -> None:
        self.reader.drop(self.keys.channel_stream(channel))

    async def _interest_changed(self) -> None:
        if not self.link_up:
            return  # written on reconnect
        try:
            await self.lease.write(self.interest())
        except (RedisError, OSError) as exc:
            self.link.down(exc)

    # --- reading ----------------------------------------------------------------------------------

    # --- lease renewal, leader and lag ----------------------------------------------------------------

    def lag(self) -> dict[str, Any]:
        """How far this consumer is behind the stream heads (as of the last lease renewal)."""
        return self.reader.lag()

    @property
    def duplicates(self) -> int:
        """Re-sent entries recognized and not routed again."""
        return self.reader.duplicates

    async def refresh_status(self, timeout_s: float = 0.5) -> bool:
        """Update leader and lag now, bounded by ``timeout_s``; False (cached values kept) when Redis is slow/down."""
        return await self.link.refresh_status(timeout_s)

    # --- the link (state in :mod:`.link`) ------------------------------------------------------------

    @property
    def link_up(self) -> bool:
        return self.link.link_up

    @property
    def last_error(self) -> str | None:
        return self.link.last_error

    @property
    def reconnects(self) -> int:
        return self.link.reconnects

    @property
    def connected_since(self) -> float | None:
        return self.link.connected_since

    @property
    def leaderless(self) -> bool:
        return self.link.leaderless

    @property
    def name_conflict(self) -> str | None:
        return self.link.name_conflict

    async def wait_link(self, up: bool = True) -> None:
        """Return once the Redis link is up (or down, with ``up=False``)."""
        await self.link.wait_link(up)

    # --- status -------------------------------------------------------------------------------------

    def status(self) -> FeedStatusReport:
        """Manager-shaped ``connections``/``statistics`` plus ``shared_feed`` (link, lag, feed leader)."""
        return consumer_status(self)


def redis_feed_factory(
    settings: Settings, books: BookStore, router: EventRouter, clob: object, *, clock: Clock = SYSTEM_CLOCK
) -> RedisFeedBackend:
    """The ``serve`` feed when ``settings.redis_url`` is set (``server/app.py`` calls this).

    ``POLYMARKET_MCP_REDIS_PREFIX``, ``_LEASE_TTL_S`` and ``_CONSUMER`` tune it; ``settings.extra``
    may carry ``redis_block_ms`` (tests use short XREAD blocks).
    """
    return RedisFeedBackend(
        settings,
        books=books,
        router=router,
        prefix=settings.redis_prefix,
        lease_ttl_s=settings.redis_lease_ttl_s,
        block_ms=int(settings.extra.get("redis_block_ms", "250")),
        consumer_name=settings.redis_consumer,
        clock=clock,
    )
