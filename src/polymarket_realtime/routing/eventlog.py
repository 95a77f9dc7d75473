"""A bounded, sequenced event log per subscription, read with a cursor and an optional long-poll.

Contract:

* ``append`` is O(1) and never blocks: it writes into a fixed-size ring. Sequence numbers are dense per
  log and start at 1. When the ring is full the oldest entry is overwritten (drop-oldest).
* ``read(after_seq, limit)`` returns entries with ``seq > after_seq`` in order, at most ``limit``.
  ``next_seq`` is the cursor to pass as ``after_seq`` next time (the seq of the last entry returned, or
  the cursor unchanged when nothing was returned). ``dropped`` counts the events after the cursor that
  fell out of the retained window before this read, so a reader always knows how many it missed: no
  silent gaps, no duplicates.
* ``await wait(after_seq, timeout_s)`` returns True as soon as an entry with ``seq > after_seq`` exists
  (immediately when one already does), False on timeout or when the log is closed. No polling: one
  event object per waiter generation is set by ``append``.
* Entries hold references to the (shared, immutable) event and an optional ``extra`` dict; turning them
  into JSON happens at read time (:func:`entry_to_dict`), never on the hot path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import anyio

from ..model.book import BookTop
from ..model.events import Event, event_to_dict

__all__ = ["EventLog", "LogEntry", "LogRead", "entry_to_dict"]


class LogEntry(NamedTuple):
    seq: int
    event: Event
    extra: dict[str, Any] | None


class LogRead(NamedTuple):
    entries: list[LogEntry]
    next_seq: int
    dropped: int


class EventLog:
    """Ring buffer of :class:`LogEntry` with dense sequence numbers from 1.

    Args:
        capacity: entries retained; older ones are dropped (and counted) on overflow.
    """

    __slots__ = ("_buf", "_closed", "_last_seq", "_read_upto", "_waiter", "capacity", "dropped_total")

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        # Plain tuples (seq, event, extra): cheaper to build than the NamedTuple, which read() makes.
        # The ring grows on demand (slot of seq = (seq - 1) % capacity): an idle subscription costs a
        # few bytes, not capacity x 8 (8 KB each at the default 1,000).
        self._buf: list[tuple[int, Event, dict[str, Any] | None]] = []
        self._last_seq = 0
        self._read_upto = 0
        self._waiter: anyio.Event | None = None
        self._closed = False
        self.dropped_total = 0
        """Entries overwritten before any reader had read them."""

    # --- hot path -------------------------------------------------------------------------------

    def append(self, event: Event, extra: dict[str, Any] | None = None) -> int:
        """Store ``event`` (and ``extra``), wake long-pollers, and return its sequence number."""
        seq = self._last_seq + 1
        if seq > self.capacity and seq - self.capacity > self._read_upto:
            # The entry being overwritten was never handed to a reader.
            self.dropped_total += 1
        buf = self._buf
        if len(buf) < self.capacity:
            buf.append((seq, event, extra))
        else:
            buf[(seq - 1) % self.capacity] = (seq, event, extra)
        self._last_seq = seq
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()
        return seq

    # --- readers --------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """Seq of the newest entry (0 when empty); also the number of events ever appended."""
        return self._last_seq

    @property
    def delivered(self) -> int:
        return self._last_seq

    @property
    def first_seq(self) -> int:
        """Seq of the oldest retained entry (``last_seq + 1`` when empty)."""
        return max(1, self._last_seq - self.capacity + 1) if self._last_seq else 1

    def __len__(self) -> int:
        return min(self._last_seq, self.capacity)

    def read(self, after_seq: int = 0, limit: int = 100) -> LogRead:
        """Entries with ``seq > after_seq``, oldest first, at most ``limit`` of them."""
        last = self._last_seq
        after_seq = max(0, min(after_seq, last))  # a cursor from the future re-anchors at the end
        first = self.first_seq
        start = max(after_seq + 1, first)
        dropped = start - (after_seq + 1)
        end = min(last, start + max(0, limit) - 1)
        buf, cap = self._buf, self.capacity
        entries: list[LogEntry] = []
        make = LogEntry._make
        for seq in range(start, end + 1):
            raw = buf[(seq - 1) % cap]
            assert raw[0] == seq
            entries.append(make(raw))
        next_seq = end if entries else after_seq + dropped
        if next_seq > self._read_upto:
            self._read_upto = next_seq
        return LogRead(entries, next_seq, dropped)

    def latest(self, n: int) -> list[LogEntry]:
        """The newest ``n`` entries, oldest first (for resources showing recent events)."""
        return self.read(max(0, self._last_seq - n), n).entries if n > 0 else []

    async def wait(self, after_seq: int, timeout_s: float) -> bool:
        """Wait until an entry after ``after_seq`` exists; False on timeout or close.

        A cursor from the future re-anchors at the end (as :meth:`read` does), so it waits for the next
        new entry rather than for ``after_seq`` itself.
        """
        after_seq = min(after_seq, self._last_seq)
        if self._last_seq > after_seq:
            return True
        if timeout_s <= 0 or self._closed:
            return False
        with anyio.move_on_after(timeout_s):
            while self._last_seq <= after_seq and not self._closed:
                if self._waiter is None:
                    self._waiter = anyio.Event()
                await self._waiter.wait()
        return self._last_seq > after_seq

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Wake every long-poller (they return False unless data arrived); further waits return at once."""
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()


def entry_to_dict(entry: LogEntry) -> dict[str, Any]:
    """The ``get_events`` shape: ``{seq, type, token_id, ts_event, ts_recv, data}``.

    ``ts_event`` is the venue time in ms, ``ts_recv`` our receive time in ns; ``data`` is the event as JSON
    (decimals as strings) plus, for depth subscriptions, ``book`` (the top-of-book view at that moment).
    """
    event = entry.event
    data = event_to_dict(event)
    if entry.extra:
        for key, value in entry.extra.items():
            # Book tops are stored unformatted on the hot path and rendered as of the event's receipt.
            data[key] = value.to_dict(event.ts_recv_ns) if isinstance(value, BookTop) else value
    return {
        "seq": entry.seq,
        "type": event.type,
        "token_id": getattr(event, "asset_id", None),
        "ts_event": event.ts_event_ms,
        "ts_recv": event.ts_recv_ns,
        "data": data,
    }
