"""The consumer's stream cursors: join streams, read them, apply entries to books and route them.

Contract:

* ``cursors`` maps each stream being read to the id of the last entry applied; cursors only move
  forward. A stream waiting to be joined is in ``pending``; :meth:`StreamReader.join_pending` gives it a
  cursor: a token stream is replayed from its newest ``book`` entry (``{p}lastbook:{token}``) so the
  local book is complete at once, entries up to ``route_after`` (the stream's previous cursor, or the
  cursor stored under ``consumer_name``) only rebuild the book and are not routed again; a channel
  stream starts at its head (or the stored cursor).
* :meth:`StreamReader.read_once` is one blocking ``XREAD`` over every joined stream; entries are applied
  in stream order. An entry whose publisher sequence number (field ``s``) was already seen on that
  stream (a batch re-sent after Redis lost it) updates the books but is not routed twice.
* ``recovering`` holds tokens whose book went stale with the Redis link; when the last of them gets a
  snapshot again, ``on_recovered`` is called (the backend routes ``feed_status: resynced``).
* Redis errors propagate to the caller (the backend owns the link state).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
import redis.asyncio as aioredis

from ..clock import Clock
from ..feed.stats import FeedStatistics
from ..model.events import BookSnapshot, FeedStatus, decode_event
from .keys import Keys
from .streams import ZERO_ID, id_gt, parse_id, text, xread_pairs

if TYPE_CHECKING:
    from ..feed.books import BookStore
    from ..routing.router import EventRouter

__all__ = ["StreamReader"]

log = logging.getLogger(__name__)


class StreamReader:
    """Per-stream cursors of one consumer and the apply/route step."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        books: BookStore,
        router: EventRouter,
        stats: FeedStatistics,
        clock: Clock,
        wanted: Callable[[str], bool],
        consumer_name: str | None = None,
        block_ms: int = 250,
        read_count: int = 1000,
    ) -> None:
        self.client = client
        self.keys = keys
        self._books = books
        self._router = router
        self._stats = stats
        self._clock = clock
        self._wanted = wanted
        self.consumer_name = consumer_name
        self.block_ms = block_ms
        self.read_count = read_count
        self.cursors: dict[str, str] = {}
        self.pending: set[str] = set()
        self.saved: dict[str, str] = {}
        self.heads: dict[str, str] = {}
        self.recovering: set[str] = set()
        self.on_recovered: Callable[[], None] | None = None
        self.on_gap: Callable[[str, str, str], None] | None = None
        """Called with (asset, cursor, first id) when a stored cursor fell behind the stream's first entry."""
        self.gaps = 0
        self._sources: dict[str, tuple[bytes, int]] = {}
        """Per stream: the newest (publisher id, seq) applied, to drop re-sent duplicates."""
        self._joined = anyio.Event()
        self.duplicates = 0
        self.malformed = 0
        self.last_event_monotonic: float | None = None

    # --- membership ---------------------------------------------------------------------------------

    def add(self, stream: str) -> None:
        """Join ``stream`` on the next read (no-op if already read)."""
        if stream not in self.cursors:
            self.rejoin(stream)

    def rejoin(self, stream: str) -> None:
        """(Re)join ``stream``: token streams are replayed from their newest snapshot."""
        self.pending.add(stream)
        if self._joined.is_set():
            self._joined = anyio.Event()

    def drop(self, stream: str) -> None:
        self.cursors.pop(stream, None)
        self.pending.discard(stream)

    def unjoined(self) -> None:
        """The link went down: :meth:`wait_joined` waits for the next successful join."""
        if self._joined.is_set():
            self._joined = anyio.Event()

    async def wait_joined(self) -> None:
        """Return once every stream added so far is being read."""
        while True:
            joined = self._joined
            await joined.wait()
            if joined is self._joined:
                return

    async def load_saved(self) -> None:
        if self.consumer_name:
            saved = await self.client.hgetall(self.keys.cursors(self.consumer_name))
            self.saved = {text(k): text(v) for k, v in saved.items()}

    # --- joining ------------------------------------------------------------------------------------

    async def join_pending(self) -> None:
        joined: dict[str, str] = {}
        for stream in sorted(self.pending):
            asset = self.keys.asset_of_stream(stream)
            current = self.cursors.get(stream)
            route_after = current or self.saved.get(stream)
            if asset is not None:
                if not self._wanted(asset):
                    self.pending.discard(stream)
                    continue
                # A cursor stored by an earlier run of this consumer may have fallen off the trimmed stream.
                cursor = await self._replay_asset(stream, asset, route_after, check_gap=current is None)
            elif route_after is not None:
                cursor = route_after
            else:
                head = await self.client.xrevrange(stream, count=1)
                cursor = text(head[0][0]) if head else ZERO_ID
            if stream in self.pending:  # not dropped meanwhile
                self.cursors[stream] = cursor
                self.pending.discard(stream)
                joined[stream] = cursor
        if joined and self.consumer_name:
            await self.client.hset(self.keys.cursors(self.consumer_name), mapping=joined)  # type: ignore[arg-type]
        if not self.pending:
            self._joined.set()

    async def _replay_asset(self, stream: str, asset: str, route_after: str | None, *, check_gap: bool = False) -> str:
        head_id = None
        if route_after is None:
            # Head first, snapshot pointer second: a book added in between is then never skipped.
            head = await self.client.xrevrange(stream, count=1)
            head_id = text(head[0][0]) if head else ZERO_ID
        elif check_gap:
            first = await self.client.xrange(stream, count=1)
            first_id = text(first[0][0]) if first else None
            if first_id is not None and id_gt(first_id, route_after):
                # The entry at our cursor was trimmed (MAXLEN): entries after it may be lost to us.
                self.gaps += 1
                if self.on_gap is not None:
                    self.on_gap(asset, route_after, first_id)
        raw = await self.client.get(self.keys.lastbook(asset))
        if raw is None:
            return route_after or head_id or ZERO_ID
        lastbook = text(raw)
        start = lastbook
        if route_after is not None and id_gt(lastbook, route_after):
            start = "(" + route_after  # routed entries between our cursor and the snapshot come first
        cursor = route_after or ZERO_ID
        while True:
            entries: list[Any] = list(await self.client.xrange(stream, min=start, max="+", count=self.read_count) or [])
            for raw_id, fields in entries:
                eid = text(raw_id)
                self.apply(stream, asset, fields or {}, route=route_after is None or id_gt(eid, route_after))
                if id_gt(eid, cursor):
                    cursor = eid
            if len(entries) < self.read_count:
                return cursor if id_gt(cursor, ZERO_ID) else lastbook
            start = "(" + text(entries[-1][0])

    # --- reading ------------------------------------------------------------------------------------

    async def read_once(self) -> None:
        """One blocking XREAD over the joined streams (or a short wait when there is none)."""
        streams = dict(self.cursors)
        if not streams:
            await anyio.sleep(self.block_ms / 1000)
            return
        reply = await self.client.xread(streams, count=self.read_count, block=self.block_ms)  # type: ignore[arg-type]  # str keys are valid KeyT
        updated: dict[str, str] = {}
        for stream, entries in xread_pairs(reply):
            if stream not in self.cursors or not entries:
                continue  # dropped while the read was in flight
            asset = self.keys.asset_of_stream(stream)
            for _eid, fields in entries:
                self.apply(stream, asset, fields, route=True)
            last = entries[-1][0]
            self.cursors[stream] = last
            updated[stream] = last
        if updated and self.consumer_name:
            await self.client.hset(self.keys.cursors(self.consumer_name), mapping=updated)  # type: ignore[arg-type]

    def apply(self, stream: str, asset: str | None, fields: dict[bytes, bytes], *, route: bool) -> None:
        try:
            event = decode_event(fields[b"e"])
        except (KeyError, msgspec.DecodeError):
            self.malformed += 1
            return
        routed = route and fields.get(b"r", b"1") != b"0"
        source = fields.get(b"s")
        seq = -1
        if source is not None:
            publisher, _, raw_seq = source.rpartition(b":")
            try:
                seq = int(raw_seq)
            except ValueError:
                # Not written by our publisher (or corrupted): skip it, never take the reader down.
                self.malformed += 1
                log.warning("skipping stream entry with a malformed sequence field on %s", stream)
                return
        if source is not None:
            seen = self._sources.get(stream)
            if seen is not None and seen[0] == publisher and seq <= seen[1]:
                # Already applied (a re-sent batch): books may take it again, subscribers must not.
                if routed:
                    self.duplicates += 1
                routed = False
            else:
                self._sources[stream] = (publisher, seq)
        if type(event) is FeedStatus:
            if asset is not None:
                # A per-token copy: book state only (the status stream carries the routed original).
                if event.state in ("disconnected", "stale"):
                    self._books.mark_stale((asset,), f"shared feed: {event.detail or event.state}")
                return
        else:
            self._books.apply(event)
            if self.recovering and type(event) is BookSnapshot:
                self.recovering.discard(event.asset_id)
                if not self.recovering and self.on_recovered is not None:
                    self.on_recovered()
        if routed:
            self._stats.count_type(event.type)
            self._stats.record_events(1)
            self.last_event_monotonic = self._clock.monotonic()
            self._router.route(event)

    # --- lag ----------------------------------------------------------------------------------------

    async def measure_heads(self) -> None:
        streams = list(self.cursors)[:1000]
        if not streams:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for s in streams:
                pipe.xrevrange(s, count=1)
            heads = await pipe.execute()
        self.heads = {s: text(h[0][0]) for s, h in zip(streams, heads, strict=True) if h}

    def lag(self) -> dict[str, Any]:
        """How far the cursors are behind the stream heads (as of the last :meth:`measure_heads`)."""
        behind = 0
        lag_ms = 0
        for stream, head in self.heads.items():
            cursor = self.cursors.get(stream)
            if cursor is not None and id_gt(head, cursor):
                behind += 1
                lag_ms = max(lag_ms, parse_id(head)[0] - parse_id(cursor)[0])
        return {"streams": len(self.cursors), "streams_behind": behind, "max_lag_ms": lag_ms}
