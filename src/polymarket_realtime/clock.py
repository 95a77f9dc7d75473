"""Time sources. Production uses :class:`SystemClock`; tests may inject their own."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a monotonic clock (intervals, timeouts)."""
        ...

    def time_ns(self) -> int:
        """Wall-clock nanoseconds since the epoch (event receive times)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time_ns(self) -> int:
        return time.time_ns()


SYSTEM_CLOCK = SystemClock()
