"""The control room's live state across servers: the owner mirrors its push channels into one Redis stream.

In shared-feed mode one server owns paper sessions and agents (:mod:`.ownership`); the others have no
such services, so their dashboards would stay empty. The owner's push hub (``http/hub.py``) therefore
offers every message of the mirrored channels (``system``, ``activity``, ``sessions``, ``agents``,
``logs:<agent_id>``, ``commands:<session_id>``) to :meth:`ControlStream.offer`, which never blocks; a
task ``XADD``s them to ``{p}control:events`` (capped with ``MAXLEN ~``). Every other server reads that
stream from a cursor (``XREAD BLOCK``) and publishes each entry into its own hub, where its dashboard
clients get it exactly as they would on the owner (their own per-channel ``seq``). Entries carry the
publishing server's id, so a server never re-reads what it wrote itself, and only entries written while
it is not the owner reach its hub. Snapshots are not in the stream: a joining client's snapshot is asked
from the owner over :mod:`.control_rpc`.

Entry fields: ``c`` channel, ``d`` the data as JSON, ``o`` the publishing server id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import redis.asyncio as aioredis
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from redis.exceptions import RedisError

from .keys import Keys

__all__ = ["ControlStream", "is_mirrored"]

log = logging.getLogger(__name__)

_MIRRORED = frozenset({"system", "activity", "sessions", "agents"})
_MIRRORED_PREFIXES = ("logs:", "commands:")
DEFAULT_MAXLEN = 10_000
_QUEUE = 10_000
_BLOCK_MS = 1000
_RETRY_S = 0.5


def is_mirrored(channel: str) -> bool:
    return channel in _MIRRORED or channel.startswith(_MIRRORED_PREFIXES)


def stream_key(keys: Keys) -> str:
    return f"{keys.prefix}control:events"


class ControlStream:
    """Owner side: :meth:`offer` + :meth:`publish_loop`; other servers: :meth:`read_loop`.

    Args:
        client: Redis client (its socket timeout must exceed the ``XREAD`` block time).
        keys: key names (the prefix).
        server_id: this server's id.
        is_owner: whether this server owns sessions/agents right now.
        maxlen: entries kept in the stream (``MAXLEN ~``).
    """

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        server_id: str,
        is_owner: Callable[[], bool],
        *,
        maxlen: int = DEFAULT_MAXLEN,
    ) -> None:
        self.client = client
        self.key = stream_key(keys)
        self.server_id = server_id
        self.is_owner = is_owner
        self.maxlen = maxlen
        self.published = 0
        self.received = 0
        self.dropped = 0
        """Messages not mirrored because the queue to Redis was full (Redis slow or unreachable)."""
        self._send: MemoryObjectSendStream[tuple[str, str]]
        self._receive: MemoryObjectReceiveStream[tuple[str, str]]
        self._send, self._receive = anyio.create_memory_object_stream[tuple[str, str]](_QUEUE)

    def offer(self, channel: str, data: Any) -> None:
        """A hub tap: queue the message for Redis when this server is the owner (never blocks)."""
        if not is_mirrored(channel) or not self.is_owner():
            return
        try:
            self._send.send_nowait((channel, json.dumps(data, separators=(",", ":"), default=str)))
        except anyio.WouldBlock:
            self.dropped += 1

    def close(self) -> None:
        self._send.close()
        self._receive.close()

    async def publish_loop(self) -> None:
        while True:
            channel, data = await self._receive.receive()
            batch = [(channel, data)]
            while len(batch) < 500:
                try:
                    batch.append(self._receive.receive_nowait())
                except anyio.WouldBlock:
                    break
            while True:
                try:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for c, d in batch:
                            fields = {"c": c, "d": d, "o": self.server_id}
                            pipe.xadd(self.key, fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
                        await pipe.execute()
                    self.published += len(batch)
                    break
                except (RedisError, OSError) as exc:
                    log.warning("control stream: cannot publish to Redis (%s); retrying", type(exc).__name__)
                    await anyio.sleep(_RETRY_S)

    async def head(self) -> str:
        """The id of the newest entry (``0-0`` for an empty stream): read from there to get what comes next."""
        last = await self.client.xrevrange(self.key, count=1)
        if not last:
            return "0-0"
        entry_id = last[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read_loop(self, publish: Callable[[str, Any], Any]) -> None:
        """Forever: entries written by another server while this one is not the owner go to ``publish``."""
        cursor: str | None = None
        while True:
            try:
                if cursor is None:
                    cursor = await self.head()
                answer: Any = await self.client.xread({self.key: cursor}, count=1000, block=_BLOCK_MS)
            except (RedisError, OSError) as exc:
                log.warning("control stream: cannot read Redis (%s); retrying", type(exc).__name__)
                await anyio.sleep(_RETRY_S)
                continue
            for _stream, entries in answer or []:
                for entry_id, fields in entries:
                    cursor = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                    origin = _text(fields.get(b"o"))
                    if origin == self.server_id or self.is_owner():
                        continue
                    try:
                        data = json.loads(_text(fields.get(b"d")))
                    except ValueError:
                        continue
                    self.received += 1
                    publish(_text(fields.get(b"c")), data)


def _text(raw: Any) -> str:
    if isinstance(raw, bytes):
        return raw.decode()
    return "" if raw is None else str(raw)
