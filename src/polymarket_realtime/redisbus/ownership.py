"""The ownership rule for paper sessions and agents in shared-feed (Redis) mode.

Rule: **paper sessions and agents run in exactly one server process per Redis namespace.** Market data
is shared by every server, but sessions and agents have state (orders, fills, positions, SQLite rows,
background agent tasks) that two processes must never mutate at once. The first server that needs
them (a session/agent tool call, or the paper extension starting with sessions to restore) takes the
lock ``{p}owner:sessions`` (a :class:`~.ha.RedisLock`) and keeps it renewed while it lives; every other
server answers session and agent tools with a :class:`~polymarket_realtime.errors.StateError` naming the
owner. When the owner exits (or dies: the lock expires after ``ttl_s``), the next server to ask takes
over. In embedded mode (no Redis) there is nothing to share and no lock.
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
    """Lazy, renewed ownership of paper sessions and agents.

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
        self._wanted = False

    @property
    def held(self) -> bool:
        return self.lock.held

    async def ensure(self) -> None:
        """Own sessions now or raise :class:`StateError` saying who does (or that Redis is unreachable)."""
        if self.lock.held:
            return
        try:
            ok = await self.lock.acquire()
            holder = None if ok else await self.lock.holder()
        except (RedisError, OSError) as exc:
            raise StateError(
                "paper sessions and agents need the ownership lock in Redis, and Redis is unreachable "
                f"({type(exc).__name__}); retry when the shared feed is back",
                state="redis_unreachable",
            ) from exc
        if ok:
            self._wanted = True
            log.info("this server now owns paper sessions and agents (%s)", self.owner_id)
            return
        self.last_holder = holder
        raise StateError(
            f"paper sessions and agents are owned by another MCP server ({holder}); in shared-feed (Redis) mode "
            "they run in one server process only. Use that server, or stop it and restart this one "
            f"(its lock frees itself {self.lock.ttl_s:g}s after it stops).",
            state="sessions_owned_elsewhere",
        )

    async def run(self) -> None:
        """Renew while held; if the lock was lost (e.g. Redis restarted empty), try to re-take it."""
        while True:
            await anyio.sleep(self.lock.renew_interval_s)
            if not self._wanted:
                continue
            try:
                if self.lock.held:
                    await self.lock.renew()
                else:
                    await self.lock.acquire()
            except (RedisError, OSError) as exc:
                log.debug("session ownership renewal failed: %s", type(exc).__name__)

    async def release(self) -> None:
        self._wanted = False
        await self.lock.release()

    def status(self) -> dict[str, object]:
        return {"owned_here": self.lock.held, "owner_id": self.owner_id, "last_seen_owner": self.last_holder}
