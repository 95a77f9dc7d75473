"""A virtual clock for the REST rate limiter: ``sleep`` records the wait and advances time at once."""

from __future__ import annotations

import anyio

__all__ = ["FakeRateClock"]


class FakeRateClock:
    def __init__(self, wall_s: float = 1_800_000_000.0) -> None:
        self.now = 0.0
        self.wall_s = wall_s
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_s + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        self.now += seconds
