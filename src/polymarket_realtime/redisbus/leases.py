"""Subscription leases: what each live MCP server wants from the shared feed, with a TTL.

Contract:

* A consumer (server) writes its whole interest as one JSON value under ``{p}lease:{server_id}`` with a
  ``PX`` TTL and adds its id to the set ``{p}leases``. It rewrites the lease whenever its interest
  changes and renews it every ``ttl/3`` while it lives, so a crashed (or killed) server's interest
  expires by itself within one TTL. A clean shutdown deletes the lease at once.
* The feed process reads the **union** of live leases (``SMEMBERS`` + ``MGET``; ids whose lease expired
  are removed from the set as they are found) and subscribes/unsubscribes upstream to match it.
* The TTL is enforced by Redis' own clock, so clock skew between machines does not matter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import msgspec
import redis.asyncio as aioredis

from ..feed.desired import Interest
from .keys import Keys

__all__ = ["LeaseRegistry", "read_union"]

log = logging.getLogger(__name__)


class _Lease(msgspec.Struct, frozen=True, kw_only=True):
    server_id: str
    interest: Interest
    written_ms: int = 0


_SREM_IF_GONE = """
local set = ARGV[1]
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', set, ARGV[i + 1]) end
end
return 1
"""

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Lease)


@dataclass(eq=False)
class LeaseRegistry:
    """The consumer side: keeps this server's lease written and renewed.

    Args:
        client: the consumer's Redis client.
        keys: key names.
        server_id: unique per server process.
        ttl_s: lease lifetime; renewed every ``ttl_s / 3`` by the caller's loop (:meth:`renew_interval_s`).
    """

    client: aioredis.Redis
    keys: Keys
    server_id: str
    ttl_s: float = 15.0
    interest: Interest = field(default_factory=Interest)
    writes: int = 0

    @property
    def renew_interval_s(self) -> float:
        return self.ttl_s / 3

    async def write(self, interest: Interest | None = None) -> None:
        """Store ``interest`` (or the current one) with a fresh TTL. Raises redis errors to the caller."""
        if interest is not None:
            self.interest = interest
        payload = _encoder.encode(_Lease(server_id=self.server_id, interest=self.interest))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.lease(self.server_id), payload, px=max(1, int(self.ttl_s * 1000)))
            pipe.sadd(self.keys.lease_set, self.server_id)
            await pipe.execute()
        self.writes += 1

    async def delete(self) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.lease(self.server_id))
            pipe.srem(self.keys.lease_set, self.server_id)
            await pipe.execute()


@dataclass(frozen=True, slots=True)
class LeaseUnion:
    interest: Interest
    servers: tuple[str, ...]
    malformed: tuple[str, ...] = ()
    """Server ids whose lease could not be decoded (skipped, logged)."""


async def read_union(client: aioredis.Redis, keys: Keys) -> LeaseUnion:
    """The union of every live lease; drops ids whose lease has expired from the set."""
    raw_ids = await client.smembers(keys.lease_set)
    ids = sorted(i.decode() if isinstance(i, bytes) else str(i) for i in raw_ids)
    if not ids:
        return LeaseUnion(Interest(), ())
    values = await client.mget([keys.lease(i) for i in ids])
    total = Interest()
    live: list[str] = []
    expired: list[str] = []
    malformed: list[str] = []
    for server_id, value in zip(ids, values, strict=True):
        if value is None:
            expired.append(server_id)
            continue
        try:
            lease = _decoder.decode(value)
        except (msgspec.ValidationError, msgspec.DecodeError):
            malformed.append(server_id)
            log.warning("ignoring malformed lease of server %s", server_id)
            continue
        live.append(server_id)
        total = total.union(lease.interest)
    if expired:
        # Atomic check-and-remove: a server that re-registered since the MGET keeps its set entry.
        await client.eval(_SREM_IF_GONE, len(expired), *[keys.lease(i) for i in expired], keys.lease_set, *expired)
        log.info("leases expired: %s", ", ".join(expired))
    return LeaseUnion(total, tuple(live), tuple(malformed))
