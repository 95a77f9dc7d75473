"""Bounded fan-out queues for consumers that run in their own task (bus seam).

A :class:`Sink` receives every routed event (optionally only some types) through ``offer``, which is
synchronous and never waits: the socket reader must not be slowed by a slow consumer (MCP client,
SQLite recorder, Redis publisher, paper session). Overflow policy: **drop the newest event and count
it** (``dropped``). Dropping newest keeps what the consumer already queued contiguous; the consumer sees
the gap through the counter (and books stay correct because they are applied before fan-out).

The consumer drains with ``async for event in sink`` (ends after ``close()`` once the queue is empty) or
``get_nowait_batch``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

import anyio

from ..model.events import Event

__all__ = ["DROP_POLICY", "Sink"]

DROP_POLICY: Final = "drop-newest"


class Sink:
    """One consumer's bounded queue.

    Args:
        name: shown in statistics.
        capacity: events queued at most.
        event_types: only these types are offered (None = all).
        on_close: called once by :meth:`close` (the router unregisters the sink).
    """

    def __init__(
        self,
        name: str,
        capacity: int,
        *,
        event_types: frozenset[str] | None = None,
        on_close: Callable[[Sink], None] | None = None,
    ) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.name = name
        self.capacity = capacity
        self.event_types = event_types
        self.policy = DROP_POLICY
        self.delivered = 0
        self.dropped = 0
        self._queue: deque[Event] = deque()
        self._waiter: anyio.Event | None = None
        self._closed = False
        self._on_close = on_close

    def offer(self, event: Event) -> bool:
        """Queue ``event`` without waiting; False (and counted) when full or closed."""
        if self._closed:
            return False
        if len(self._queue) >= self.capacity:
            self.dropped += 1
            return False
        self._queue.append(event)
        self.delivered += 1
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()
        return True

    def get_nowait_batch(self, limit: int = 1000) -> list[Event]:
        queue = self._queue
        n = min(limit, len(queue))
        return [queue.popleft() for _ in range(n)]

    async def get(self) -> Event:
        """The next event; raises ``anyio.EndOfStream`` once closed and drained."""
        while not self._queue:
            if self._closed:
                raise anyio.EndOfStream
            if self._waiter is None:
                self._waiter = anyio.Event()
            await self._waiter.wait()
        return self._queue.popleft()

    def __aiter__(self) -> Sink:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.get()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop accepting events; the consumer drains what is queued, then its loop ends."""
        if self._closed:
            return
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()
        if self._on_close is not None:
            self._on_close(self)

    def stats(self) -> dict[str, object]:
        return {
            "name": self.name,
            "queued": len(self._queue),
            "capacity": self.capacity,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "policy": self.policy,
        }
