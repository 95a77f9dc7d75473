"""The shared feed process: leader election, upstream sockets driven by leases, publishing to Redis.

``FeedProcess.run()`` loops forever:

1. **standby**: try the leader lock (:class:`~.ha.RedisLock`, key ``{p}feed:leader``) every
   ``lock_ttl_s / 3``; no upstream socket is open.
2. **leader**: start a :class:`~polymarket_realtime.feed.manager.WebSocketManager` (own BookStore and
   EventRouter), a :class:`~.publisher.Publisher` draining a router sink (every write fenced by the lock
   token), a lease watcher that subscribes/unsubscribes upstream to match the union of live leases
   every ``lease_poll_s``, and the lock renewal. Losing the lock (renewal answered "not ours", or a
   fenced write refused) stops all of it and returns to standby, so at most one process publishes.

Failover: when the leader dies its lock expires after ``lock_ttl_s`` and the standby takes it at its
next attempt, i.e. within ``lock_ttl_s * 4 / 3``; it subscribes to the union of leases and the venue's
fresh ``book`` snapshots rebuild every consumer's books.

After a Redis outage the lease union may be briefly empty (a Redis restarted without persistence has
lost every lease until the servers renew): upstream unsubscribes are held back for ``lease_grace_s``
after any Redis error, and the publisher checkpoints every book once Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import httpx2
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..auth.l2 import ApiCredentials
from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import PolymarketRealtimeError
from ..feed.books import BookStore
from ..feed.desired import Interest
from ..feed.manager import WebSocketManager
from ..routing.router import EventRouter
from ..venues.polymarket.ratelimit import RateLimitedTransport
from ..venues.polymarket.rest import ClobRestClient
from .ha import RedisLock, new_owner_token
from .keys import DEFAULT_PREFIX, Keys
from .leases import read_union
from .publisher import NotLeaderError, Publisher

__all__ = ["FeedProcess"]

log = logging.getLogger(__name__)


_REPORT_EVERY_S = 60.0
"""How often the leader logs its publishing counters."""


class _LostLeadership(Exception):
    pass


@dataclass(eq=False)
class FeedProcess:
    """One feed process (leader or standby).

    Args:
        settings: venue endpoints and timings (``redis_url`` is not read here: pass ``client``).
        client: Redis client (owned by the caller).
        prefix: key namespace.
        lock_ttl_s: leader lock TTL (failover time is about this).
        lease_poll_s: how often the lease union is re-read.
        lease_grace_s: hold back unsubscribes this long after a Redis error (default: 15 s).
        maxlen_asset / maxlen_channel: stream caps (approximate).
        sink_capacity: events buffered between the sockets and Redis (overflow is counted, then healed
            with checkpoints).
    """

    settings: Settings
    client: aioredis.Redis
    prefix: str = DEFAULT_PREFIX
    lock_ttl_s: float = 5.0
    lease_poll_s: float = 0.5
    lease_grace_s: float = 15.0
    maxlen_asset: int = 10_000
    maxlen_channel: int = 100_000
    sink_capacity: int = 100_000
    token: str = field(default_factory=lambda: new_owner_token("feed"))
    role: str = "standby"
    leaderships: int = 0
    manager: WebSocketManager | None = None
    publisher: Publisher | None = None
    interest: Interest = field(default_factory=Interest)
    on_role_change: Callable[[str], None] | None = None
    clock: Clock = SYSTEM_CLOCK
    """Times the status reports and the lease grace period (the manager it leads gets the same clock)."""
    _grace_until: float = 0.0
    _last_warning: str = ""

    def __post_init__(self) -> None:
        self.keys = Keys(self.prefix)
        self.lock = RedisLock(self.client, self.keys.leader, self.token, ttl_s=self.lock_ttl_s)
        self._role_changed = anyio.Event()

    def _set_role(self, role: str) -> None:
        if role != self.role:
            log.info("feed process %s is now %s", self.token, role)
            self.role = role
            changed, self._role_changed = self._role_changed, anyio.Event()
            changed.set()
            if self.on_role_change is not None:
                self.on_role_change(role)

    async def wait_role(self, role: str) -> None:
        """Return once this process is ``"leader"`` (or ``"standby"``)."""
        while self.role != role:
            await self._role_changed.wait()

    async def run(self) -> None:
        """Standby/leader loop; returns only when cancelled (releases the lock on the way out)."""
        unreachable = False
        try:
            while True:
                try:
                    acquired = await self.lock.acquire()
                    unreachable = False
                except (RedisError, OSError) as exc:
                    if not unreachable:
                        log.warning("leader lock: Redis unreachable (%s: %s); retrying", type(exc).__name__, exc)
                    unreachable = True
                    acquired = False
                if acquired:
                    self.leaderships += 1
                    await self._lead()
                    self._set_role("standby")
                await anyio.sleep(self.lock.renew_interval_s)
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2.0):
                await self.lock.release()

    async def _lead(self) -> None:
        books = BookStore()
        router = EventRouter(books)
        self.interest = Interest()
        self._grace_until = 0.0
        try:
            async with (
                ClobRestClient(self.settings) as clob,
                # Account reads (user-channel credentials and gap recovery), on the shared rate limits.
                httpx2.AsyncClient(
                    timeout=self.settings.http_timeout_s,
                    transport=RateLimitedTransport("clob", self.settings.clob_url),
                ) as account_http,
                WebSocketManager(
                    self.settings, books=books, router=router, clob_rest=clob, clock=self.clock
                ) as manager,
            ):
                sink = router.add_sink("redis-publisher", self.sink_capacity)
                publisher = Publisher(
                    self.client,
                    self.keys,
                    books=books,
                    fence_token=self.token,
                    fence_ttl_s=self.lock_ttl_s,
                    maxlen_asset=self.maxlen_asset,
                    maxlen_channel=self.maxlen_channel,
                    clock=self.clock,
                )
                self.manager, self.publisher = manager, publisher
                self._install_credentials(manager, account_http)
                self._set_role("leader")
                try:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(publisher.run, sink, name="redis-publisher")
                        tg.start_soon(self._watch_leases, manager, publisher, name="lease-watcher")
                        tg.start_soon(self._keep_lock, name="leader-lock")
                finally:
                    sink.close()
        except* (_LostLeadership, NotLeaderError):
            log.warning("feed process %s lost the leader lock; back to standby", self.token)
        finally:
            self.manager = None

    def _install_credentials(self, manager: WebSocketManager, http: httpx2.AsyncClient) -> None:
        """The user channel (if any server leases it) runs with this process's account credentials; after a
        user-socket reconnect the same credentials re-read the account to recover what the gap hid."""
        from ..venues.polymarket.credentials import CredentialManager
        from ..venues.polymarket.user_rest import UserRestClient

        try:
            credentials = CredentialManager(self.settings, http=http)
        except PolymarketRealtimeError as exc:
            log.warning("user channel disabled in the feed process: %s", exc)
            return
        if credentials.configured:

            async def provide(refresh: bool) -> ApiCredentials:
                return await credentials.get(refresh=refresh)

            manager.set_user_credentials_provider(provide)
            manager.set_polybolt_credentials_provider(provide)  # PolyBolt takes the same L2 trio
            manager.set_user_rest(UserRestClient(self.settings.clob_url, credentials, http))

    async def _keep_lock(self) -> None:
        while True:
            await anyio.sleep(self.lock.renew_interval_s)
            try:
                if not await self.lock.renew():
                    raise _LostLeadership
            except (RedisError, OSError) as exc:
                # Cannot tell; keep going. A fenced write will refuse if someone else took over meanwhile.
                log.debug("leader lock renewal failed: %s", type(exc).__name__)

    async def _watch_leases(self, manager: WebSocketManager, publisher: Publisher) -> None:
        failing = False
        next_report = self.clock.monotonic() + _REPORT_EVERY_S
        while True:
            if self.clock.monotonic() >= next_report:
                next_report += _REPORT_EVERY_S
                log.info("feed %s: %s", self.role, self.status())
            try:
                union = await read_union(self.client, self.keys)
            except (RedisError, OSError) as exc:
                if not failing:
                    log.warning("lease watcher: Redis unreachable (%s)", type(exc).__name__)
                failing = True
                self._grace_until = self.clock.monotonic() + self.lease_grace_s
                await anyio.sleep(self.lease_poll_s)
                continue
            if failing:
                failing = False
                publisher.request_checkpoint()
            await self._apply(manager, union.interest)
            await anyio.sleep(self.lease_poll_s)

    async def _apply(self, manager: WebSocketManager, want: Interest) -> None:
        """Move upstream subscriptions from ``self.interest`` toward ``want``, one recorded step at a time."""
        keep = self.clock.monotonic() < self._grace_until  # hold removals back right after a Redis outage
        have = self.interest
        assets, market_events = set(have.assets), have.market_events
        user, user_all, rtds = set(have.user_markets), have.user_all, set(have.rtds)
        reference = set(have.reference)
        sports = have.sports
        try:
            await _sync_keys(assets, want.assets, keep, manager.subscribe_assets, manager.unsubscribe_assets, "tokens")
            market_events = await _sync_flag(
                market_events,
                want.market_events,
                keep,
                manager.subscribe_market_events,
                manager.unsubscribe_market_events,
            )
            for topic, kind in sorted(want.rtds - rtds):
                await manager.subscribe_rtds(topic, kind)
                rtds.add((topic, kind))
            for topic, kind in sorted(rtds - want.rtds) if not keep else ():
                await manager.unsubscribe_rtds(topic, kind)
                rtds.discard((topic, kind))
            await _sync_keys(
                reference,
                want.reference,
                keep,
                manager.subscribe_reference_prices,
                manager.unsubscribe_reference_prices,
            )
            sports = await _sync_flag(sports, want.sports, keep, manager.subscribe_sports, manager.unsubscribe_sports)
            await _sync_keys(
                user, want.user_markets, keep, manager.subscribe_user_markets, manager.unsubscribe_user_markets
            )
            user_all = await _sync_flag(
                user_all,
                want.user_all,
                keep,
                lambda: manager.subscribe_user_markets([]),
                lambda: manager.unsubscribe_user_markets([]),
            )
        except PolymarketRealtimeError as exc:
            message = str(exc)
            if message != self._last_warning:
                self._last_warning = message
                log.warning("upstream subscription change failed (retrying every %.1fs): %s", self.lease_poll_s, exc)
        finally:
            self.interest = Interest(
                assets=frozenset(assets),
                market_events=market_events,
                user_markets=frozenset(user),
                user_all=user_all,
                rtds=frozenset(rtds),
                reference=frozenset(reference),
                sports=sports,
            )

    def status(self) -> dict[str, object]:
        return {
            "token": self.token,
            "role": self.role,
            "leaderships": self.leaderships,
            "interest": {
                "assets": len(self.interest.assets),
                "market_events": self.interest.market_events,
                "rtds": sorted(f"{t}:{k}" for t, k in self.interest.rtds),
                "reference_prices": len(self.interest.reference),
                "sports": self.interest.sports,
            },
            "publisher": self.publisher.stats() if self.publisher is not None else None,
        }


async def _sync_keys(
    have: set[str],
    want: frozenset[str],
    keep: bool,
    subscribe: Callable[[Sequence[str]], Awaitable[object]],
    unsubscribe: Callable[[Sequence[str]], Awaitable[object]],
    noun: str | None = None,
) -> None:
    """Subscribe the keys ``want`` adds, then (unless ``keep``) drop the ones it lost; ``have`` follows each step,
    so a failure half-way leaves it true to what the venue was told."""
    if add := sorted(want - have):
        await subscribe(add)
        have.update(add)
        if noun is not None:
            log.info("upstream: +%d %s (leases want %d)", len(add), noun, len(want))
    if not keep and (drop := sorted(have - want)):
        await unsubscribe(drop)
        have.difference_update(drop)
        if noun is not None:
            log.info("upstream: -%d %s (leases want %d)", len(drop), noun, len(want))


async def _sync_flag(
    have: bool,
    want: bool,
    keep: bool,
    subscribe: Callable[[], Awaitable[object]],
    unsubscribe: Callable[[], Awaitable[object]],
) -> bool:
    """One on/off subscription moved toward ``want`` (switching off waits while ``keep``); returns the new state."""
    if want and not have:
        await subscribe()
        return True
    if have and not want and not keep:
        await unsubscribe()
        return False
    return have
