"""Feed-process side: publish routed normalized events to Redis Streams, capped with ``MAXLEN ~``.

Contract:

* Events arrive through a router sink (bounded, drop-and-count; the socket reader never waits on
  Redis) and are written in batches by one Lua script call per batch: ``XADD stream MAXLEN ~ n * e
  <encode_event JSON> r <1|0>`` per event, in order. The script first checks the leader lock holds our
  token (fencing), so only the current leader ever writes.
* Token-scoped events go to the token's stream, others to their channel stream (see ``keys.py``). A
  ``feed_status`` goes once to the status stream (routed by consumers) and, as a one-token copy, into
  each affected token's stream (applied to books only, so stale/fresh order per token is kept).
* ``{p}lastbook:{token}`` always names the newest ``book`` entry of the token's stream: a consumer that
  starts (or restarts) reads from there and has a complete book. Because ``MAXLEN ~`` may trim that
  entry, the publisher writes a **checkpoint** (a ``book`` built from its own BookStore, ``r=0``) into a
  token's stream after every ``maxlen // 2`` entries without a snapshot; and after a Redis outage,
  a sink overflow or a leadership change, it checkpoints every book it holds once its queue is empty
  (built synchronously, so the checkpoint is exactly the state after everything already published).
* On a Redis error the batch is retried (bounded backoff) until it is written or the publisher is
  stopped; meanwhile new events queue in the sink and overflow is counted (``dropped``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import StateError
from ..model.events import BookSnapshot, Event, FeedStatus, encode_event
from .keys import Keys, status_copy_for

if TYPE_CHECKING:
    from ..model.book import OrderBook
    from ..routing.sinks import Sink

__all__ = ["NotLeaderError", "Publisher"]

log = logging.getLogger(__name__)

# ARGV: fence token ('' = no fencing), lock TTL ms, this publisher's progress key, the batch's last sequence
# number, then per entry: stream, payload, route flag, lastbook key or '', maxlen, source "<publisher id>:<seq>".
# The lock is re-taken when it vanished (Redis restarted empty), like RedisLock.renew does.
# A batch is all-or-nothing; a retried batch that was already written (its reply was lost) is skipped.
_PUBLISH = """
if ARGV[1] ~= '' then
  local holder = redis.call('GET', KEYS[1])
  if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  elseif holder ~= ARGV[1] then
    return redis.error_reply('NOTLEADER this feed process no longer holds the leader lock')
  end
end
local done = tonumber(redis.call('GET', ARGV[3]) or '0')
if done >= tonumber(ARGV[4]) then return 'DUP' end
for i = 5, #ARGV, 6 do
  local id = redis.call('XADD', ARGV[i], 'MAXLEN', '~', ARGV[i + 4], '*',
    'e', ARGV[i + 1], 'r', ARGV[i + 2], 's', ARGV[i + 5])
  if ARGV[i + 3] ~= '' then redis.call('SET', ARGV[i + 3], id) end
end
redis.call('SET', ARGV[3], ARGV[4], 'PX', 86400000)
return 'OK'
"""


class NotLeaderError(StateError):
    """The fencing check failed: another feed process holds the leader lock."""


class _Books(Protocol):
    def get(self, asset_id: str) -> OrderBook | None: ...
    def asset_ids(self) -> list[str]: ...


@dataclass(slots=True)
class _Entry:
    stream: str
    payload: bytes
    routed: bool
    lastbook: str
    maxlen: int
    seq: int = 0
    """Assigned once, at the first write attempt (a retry reuses it, so duplicates are recognizable)."""


@dataclass(eq=False)
class Publisher:
    """Writes events to Redis Streams.

    Args:
        client: Redis client of the feed process.
        keys: key names.
        books: the feed process's BookStore (for checkpoints); None disables checkpoints.
        fence_token: the leader lock token checked by every write (None = no fencing, tests/benchmarks).
        fence_ttl_s: the leader lock TTL.
        maxlen_asset / maxlen_channel: approximate cap per token stream / per channel stream.
        batch_size: events per script call.
        retry_s: delay between attempts while Redis is unreachable.
    """

    client: aioredis.Redis
    keys: Keys
    books: _Books | None = None
    fence_token: str | None = None
    fence_ttl_s: float = 5.0
    """Lock TTL used when a write re-takes a vanished leader lock (keep equal to the lock's TTL)."""
    maxlen_asset: int = 10_000
    maxlen_channel: int = 100_000
    batch_size: int = 500
    retry_s: float = 0.5
    clock: Clock = SYSTEM_CLOCK
    published: int = 0
    checkpoints: int = 0
    batches: int = 0
    errors: int = 0
    last_error: str = ""
    link_up: bool = True
    source_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    """Identifies this publisher's entries (field ``s`` = ``<source_id>:<seq>``, seq dense from 1)."""
    _seq: int = 0
    _since_book: dict[str, int] = field(default_factory=dict)
    _checkpoint_all: bool = False

    def request_checkpoint(self) -> None:
        """Checkpoint every book once the queue is drained (after an outage or a leadership change)."""
        self._checkpoint_all = True

    # --- building entries -------------------------------------------------------------------------

    def entries_for(self, event: Event) -> list[_Entry]:
        keys = self.keys
        if type(event) is FeedStatus:
            payload = encode_event(event)
            out = [_Entry(keys.channel_stream("status"), payload, True, "", self.maxlen_channel)]
            for token in event.asset_ids:
                copy = encode_event(status_copy_for(event, token))
                out.append(_Entry(keys.asset_stream(token), copy, False, "", self.maxlen_asset))
            return out
        stream = keys.stream_for(event)
        asset = keys.asset_of_stream(stream)
        if asset is None:
            return [_Entry(stream, encode_event(event), True, "", self.maxlen_channel)]
        if type(event) is BookSnapshot:
            self._since_book[asset] = 0
            return [_Entry(stream, encode_event(event), True, keys.lastbook(asset), self.maxlen_asset)]
        count = self._since_book.get(asset, 0) + 1
        self._since_book[asset] = count
        entry = _Entry(stream, encode_event(event), True, "", self.maxlen_asset)
        if count >= max(1, self.maxlen_asset // 2):
            # The last snapshot may soon be trimmed away: write one built from our book (not routed).
            checkpoint = self._checkpoint(asset)
            if checkpoint is not None:
                return [entry, checkpoint]
        return [entry]

    def _checkpoint(self, asset: str) -> _Entry | None:
        book = self.books.get(asset) if self.books is not None else None
        if book is None or book.stale:
            return None
        snapshot = BookSnapshot(
            ts_event_ms=book.ts_event_ms,
            ts_recv_ns=book.updated_recv_ns,
            asset_id=asset,
            market=book.market,
            bids=tuple(book.bids()),
            asks=tuple(book.asks()),
            hash=book.hash,
            tick_size=book.tick_size,
            min_order_size=book.min_order_size,
            last_trade_price=book.last_trade_price,
            source=book.source,
        )
        self._since_book[asset] = 0
        self.checkpoints += 1
        return _Entry(
            self.keys.asset_stream(asset), encode_event(snapshot), False, self.keys.lastbook(asset), self.maxlen_asset
        )

    def checkpoint_entries(self) -> list[_Entry]:
        """Checkpoints of every fresh book held (synchronous: a consistent cut of the BookStore)."""
        if self.books is None:
            return []
        found = (self._checkpoint(asset) for asset in self.books.asset_ids())
        return [e for e in found if e is not None]

    # --- writing ------------------------------------------------------------------------------------

    async def write(self, entries: list[_Entry]) -> None:
        """One script call for ``entries`` (raises :class:`NotLeaderError` or redis errors)."""
        if not entries:
            return
        for e in entries:
            if not e.seq:
                self._seq += 1
                e.seq = self._seq
        fence: list[str | bytes | int] = [self.fence_token or "", max(1, int(self.fence_ttl_s * 1000))]
        argv: list[str | bytes | int] = [*fence, self.keys.pubseq(self.source_id), entries[-1].seq]
        source = self.source_id + ":"
        for e in entries:
            argv += [e.stream, e.payload, "1" if e.routed else "0", e.lastbook, e.maxlen, source + str(e.seq)]
        try:
            await self.client.eval(_PUBLISH, 1, self.keys.leader, *argv)
        except ResponseError as exc:
            if "NOTLEADER" in str(exc):
                raise NotLeaderError(str(exc), state="standby") from exc
            raise
        self.batches += 1
        self.published += sum(1 for e in entries if e.routed)

    async def publish(self, events: list[Event]) -> None:
        """Encode and write ``events`` in order (no retry; for tests and benchmarks)."""
        entries = [entry for event in events for entry in self.entries_for(event)]
        for start in range(0, len(entries), self.batch_size):
            await self.write(entries[start : start + self.batch_size])

    async def _write_retrying(self, entries: list[_Entry]) -> None:
        while True:
            try:
                await self.write(entries)
            except (RedisError, OSError) as exc:
                self.errors += 1
                if self.link_up:
                    # Unreachable, or refusing writes (e.g. OOM at maxmemory): keep the batch, retry.
                    log.warning("publishing to Redis failed (%s: %s); retrying", type(exc).__name__, exc)
                self.link_up = False
                self.last_error = f"{type(exc).__name__}: {exc}"
                await anyio.sleep(self.retry_s)
                continue
            if not self.link_up:
                log.info("Redis reachable again; publishing resumed")
                self.link_up = True
                self._checkpoint_all = True
            return

    async def run(self, sink: Sink) -> None:
        """Drain ``sink`` until it is closed (or :class:`NotLeaderError` propagates)."""
        dropped_seen = sink.dropped
        while True:
            if self._checkpoint_all and len(sink) == 0:
                self._checkpoint_all = False
                cut = self.checkpoint_entries()
                for start in range(0, len(cut), self.batch_size):
                    await self._write_retrying(cut[start : start + self.batch_size])
                continue
            first = None
            with anyio.move_on_after(self.retry_s):  # wake up now and then for a requested checkpoint
                try:
                    first = await sink.get()
                except anyio.EndOfStream:
                    return
            if first is None:
                continue
            events = [first, *sink.get_nowait_batch(self.batch_size - 1)]
            entries = [entry for event in events for entry in self.entries_for(event)]
            await self._write_retrying(entries)
            if sink.dropped != dropped_seen:
                # Events were lost before Redis: consumers' books need a fresh cut.
                dropped_seen = sink.dropped
                self._checkpoint_all = True

    def stats(self) -> dict[str, object]:
        return {
            "published": self.published,
            "checkpoints": self.checkpoints,
            "batches": self.batches,
            "errors": self.errors,
            "last_error": self.last_error,
            "link_up": self.link_up,
        }
