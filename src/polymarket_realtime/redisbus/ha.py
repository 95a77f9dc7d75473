"""Token-checked Redis locks: the feed leader lock and the paper-session ownership lock.

A :class:`RedisLock` is one key holding the owner's token, written with ``SET NX PX`` and kept alive by
:meth:`RedisLock.renew`, a Lua script that extends the TTL only while the key still holds *our* token
(or re-takes the key when it vanished, e.g. after a Redis restart without persistence). Release deletes
the key only if it is still ours. A holder that dies stops renewing; the key expires after ``ttl_s`` and
a standby's next :meth:`RedisLock.acquire` wins, so failover takes at most ``ttl_s + renew_interval_s``.

The publisher additionally fences every write with the leader token (see ``publisher.py``), so a stalled
old leader that lost the lock cannot interleave events with the new one.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["RedisLock", "new_owner_token"]

log = logging.getLogger(__name__)

_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
elseif not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def new_owner_token(role: str) -> str:
    """``role@host:pid:uuid8``: unique per process start, readable in status output."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(eq=False)
class RedisLock:
    """One named lock.

    Args:
        client: Redis client.
        key: the lock key.
        token: this owner's unique value (see :func:`new_owner_token`).
        ttl_s: lock lifetime without renewal; renew every :attr:`renew_interval_s`.
    """

    client: aioredis.Redis
    key: str
    token: str
    ttl_s: float = 5.0
    held: bool = field(default=False, init=False)
    acquisitions: int = field(default=0, init=False)

    @property
    def renew_interval_s(self) -> float:
        return self.ttl_s / 3

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_s * 1000))

    async def acquire(self) -> bool:
        """Take the lock if free (or keep it if already ours). True when we hold it afterwards."""
        if self.held:
            return await self.renew()
        ok = await self.client.set(self.key, self.token, nx=True, px=self._ttl_ms)
        if not ok:
            # Ours already (e.g. we restarted our loop without releasing)? Then renew.
            current = await self.client.get(self.key)
            ok = _text(current) == self.token and bool(await self._renew_script())
        if ok:
            self.held = True
            self.acquisitions += 1
        return bool(ok)

    async def renew(self) -> bool:
        """Extend the TTL if still ours; False (and ``held`` cleared) when someone else holds it."""
        ok = bool(await self._renew_script())
        if not ok and self.held:
            log.warning("lock %s lost to %s", self.key, await self.holder())
        self.held = ok
        return ok

    async def _renew_script(self) -> int:
        result = await self.client.eval(_RENEW, 1, self.key, self.token, str(self._ttl_ms))
        return int(result)

    async def release(self) -> None:
        """Delete the key if it is still ours; never raises on a lost connection (best effort)."""
        was_held = self.held
        self.held = False
        if not was_held:
            return
        try:
            await self.client.eval(_RELEASE, 1, self.key, self.token)
        except (RedisError, OSError) as exc:
            log.info("could not release lock %s (%s); it expires in %.1fs", self.key, type(exc).__name__, self.ttl_s)

    async def holder(self) -> str | None:
        """The current holder's token, or None when free."""
        return _text(await self.client.get(self.key))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
