"""The ownership rule for paper sessions and agents in shared-feed (Redis) mode.

Rule: **paper sessions and agents run in exactly one server process per Redis namespace.** Market data
is shared by every server, but sessions and agents have state (orders, fills, positions, SQLite rows,
background agent tasks) that two processes must never mutate at once. Ownership is a live process:

* every server with the paper extension calls :meth:`SessionOwnership.want`; :meth:`run` then keeps
  trying to take the lock ``{p}owner:sessions`` (a :class:`~.ha.RedisLock`) while it is not held, and
  renews it while it is. ``changed`` fires on every transition so the extension starts the paper and
  agent services when ownership is gained and stops them when it is lost;
* ownership is **lost** when a renewal finds another holder (Redis restarted empty and another server
  took the lock), and **suspended** as soon as Redis is unreachable (:meth:`suspect`, also called by the
  consumer when its link drops): a server that cannot renew cannot prove nobody else took over, so it
  stops mutating sessions at once and re-takes the lock (or learns the new owner) when Redis is back;
* while not held, :meth:`reason` says truthfully why: the current owner's id, or that Redis is
  unreachable; either way this server takes over by itself once the lock is free.

The owner that exits releases the lock; one that dies stops renewing and its lock expires after
``ttl_s``. In embedded mode (no Redis) there is nothing to share and no lock.
"""

from __future__ import annotations

import logging

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..errors import StateError
from .ha import RedisLock
from .keys import Keys

__all__ = ["SessionOwnership"]

log = logging.getLogger(__name__)


class SessionOwnership:
    """Live, renewed ownership of paper sessions and agents.

    Args:
        client: Redis client.
        keys: key names.
        owner_id: this server's id (shown to the others).
        ttl_s: lock lifetime; a dead owner's lock frees itself after this.
    """

    def __init__(self, client: aioredis.Redis, keys: Keys, owner_id: str, *, ttl_s: float = 15.0) -> None:
        self.lock = RedisLock(client, keys.sessions_owner, owner_id, ttl_s=ttl_s)
        self.owner_id = owner_id
        self.last_holder: str | None = None
        self.unreachable: str | None = None
        """Set (the error type) while the last attempt could not reach Redis."""
        self.gained = 0
        self.services_up = False
        """Paper/agent services are running in this process (set by app/ownership.py)."""
        self.lost = 0
        self._wanted = False
        self._changed = anyio.Event()
        self._poke = anyio.Event()

    @property
    def held(self) -> bool:
        return self.lock.held

    @property
    def renew_interval_s(self) -> float:
        return self.lock.renew_interval_s

    @property
    def wanted(self) -> bool:
        return self._wanted

    def want(self) -> None:
        """This server runs sessions/agents when it can: :meth:`run` keeps trying to take the lock."""
        self._wanted = True
        self._poke.set()

    def poke(self) -> None:
        """Try again now (e.g. the Redis link just came back) instead of at the next interval."""
        self._poke.set()

    def suspect(self, why: str) -> None:
        """Redis became unreachable: stop acting as owner until the lock is confirmed again."""
        self.unreachable = why
        if self.lock.held:
            self.lock.held = False  # the key (if it survives) still holds our token: renew re-takes it
            self._transition(False)

    def reason(self) -> str:
        """Why sessions/agents are not available here right now (true at the time of the last attempt)."""
        if self.unreachable is not None:
            return (
                "paper sessions and agents need the ownership lock in Redis, and Redis is unreachable "
                f"({self.unreachable}); this server takes them over by itself once Redis is reachable "
                "and no other server owns them"
            )
        if self.last_holder is not None:
            return (
                f"paper sessions and agents are owned by another MCP server ({self.last_holder}); in shared-feed "
                "(Redis) mode they run in one server process only. Use that server, or stop it: this server takes "
                f"over by itself once its lock frees ({self.lock.ttl_s:g}s after it stops)."
            )
        return "paper sessions and agents are not owned by this server yet (the ownership lock is being acquired)"

    def error(self) -> StateError:
        state = "redis_unreachable" if self.unreachable is not None else "sessions_owned_elsewhere"
        return StateError(self.reason(), state=state)

    async def ensure(self) -> None:
        """Own sessions now or raise :class:`StateError` saying who does (or that Redis is unreachable)."""
        self._wanted = True
        await self.attempt()
        if not self.lock.held:
            raise self.error()

    async def attempt(self) -> bool:
        """One acquire/renew round; updates ``held``, the reason and fires ``changed`` on a transition."""
        was = self.lock.held
        try:
            ok = await (self.lock.renew() if was else self.lock.acquire())
            if not ok:
                # A key holding our own token (suspended after an outage) is re-taken by acquire().
                ok = await self.lock.acquire()
            holder = None if ok else await self.lock.holder()
        except (RedisError, OSError) as exc:
            self.suspect(type(exc).__name__)
            return False
        self.unreachable = None
        self.last_holder = holder
        if ok != was:
            self._transition(ok)
        return ok

    def _transition(self, held: bool) -> None:
        if held:
            self.gained += 1
            log.info("this server now owns paper sessions and agents (%s)", self.owner_id)
        else:
            self.lost += 1
            log.warning("this server no longer owns paper sessions and agents: %s", self.reason())
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    def mark_services(self, up: bool) -> None:
        """The paper extension started (True) or stopped (False) the services; fires ``changed``."""
        self.services_up = up
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def wait_changed(self) -> None:
        """Return at the next held/not-held transition (or services start/stop)."""
        await self._changed.wait()

    async def run(self) -> None:
        """While wanted: renew while held, keep trying to acquire while not (every ``ttl_s / 3``)."""
        while True:
            with anyio.move_on_after(self.lock.renew_interval_s):
                await self._poke.wait()
            self._poke = anyio.Event()
            if self._wanted:
                await self.attempt()

    async def release(self) -> None:
        self._wanted = False
        was = self.lock.held
        await self.lock.release()
        if was:
            self._transition(False)

    def status(self) -> dict[str, object]:
        return {
            "owned_here": self.lock.held,
            "owner_id": self.owner_id,
            "last_seen_owner": self.last_holder,
            "redis_unreachable": self.unreachable is not None,
            "services_running": self.services_up,
        }
