"""A virtual clock for timing tests: time moves only when the test advances it, sleepers wake in order.

Implements :class:`polymarket_realtime.clock.Clock` plus ``sleep`` (the keepalive loops' injected sleep).
``advance_to(t)`` wakes every sleeper whose deadline is <= ``t`` one at a time, in deadline order, with the
clock reading exactly that deadline, and lets the woken task run until every task is blocked again
(so it has sent its ping and parked for its next deadline) before waking the next one.
"""

from __future__ import annotations

import heapq
import itertools

import anyio

__all__ = ["VirtualClock"]


class VirtualClock:
    def __init__(self, start: float = 1000.0, wall_ns: int = 1_800_000_000 * 10**9) -> None:
        self.now = start
        self._start = start
        self._wall_ns = wall_ns
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._ids = itertools.count()
        self._parked = anyio.Event()

    def monotonic(self) -> float:
        return self.now

    def time_ns(self) -> int:
        return self._wall_ns + round((self.now - self._start) * 1e9)

    async def sleep(self, seconds: float) -> None:
        entry = (self.now + max(0.0, seconds), next(self._ids), anyio.Event())
        heapq.heappush(self._sleepers, entry)
        self._parked.set()
        self._parked = anyio.Event()
        try:
            await entry[2].wait()
        finally:
            if entry in self._sleepers:  # cancelled while asleep
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)

    @property
    def sleepers(self) -> int:
        return len(self._sleepers)

    def next_deadline(self) -> float | None:
        return self._sleepers[0][0] if self._sleepers else None

    async def wait_sleepers(self, count: int, within_s: float = 10.0) -> None:
        """Wait until at least ``count`` tasks sleep on this clock."""
        with anyio.fail_after(within_s):
            while len(self._sleepers) < count:
                await self._parked.wait()

    async def advance_to(self, t: float) -> None:
        """Move time to ``t``, waking due sleepers one by one at their exact deadlines."""
        while self._sleepers and self._sleepers[0][0] <= t:
            deadline, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            wake.set()
            await anyio.wait_all_tasks_blocked()
        self.now = max(self.now, t)
        await anyio.wait_all_tasks_blocked()
