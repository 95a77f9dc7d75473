"""Cost of the client-side REST rate limiter per request (no throttling: each window holds 250 stamps).

Run: ``PYTHONPATH=src python benchmarks/ratelimit.py``. Prints microseconds per ``acquire`` for a CLOB
``/book`` request (2 families) and a Gamma ``/markets`` request (3 families), on a virtual clock that
advances 40 ms per request (250 per 10 s window: under every limit involved, so nothing waits).
A REST round trip is milliseconds, so anything in the low microseconds is noise next to it.
"""

from __future__ import annotations

import time

import anyio

from polymarket_realtime.venues.polymarket.ratelimit import RateLimiter, classify


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_800_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("the benchmark must not throttle")


async def _run(families: tuple[str, ...], n: int) -> float:
    clock = _Clock()
    limiter = RateLimiter(clock=clock)
    start = time.perf_counter()
    for _ in range(n):
        clock.now += 0.04
        await limiter.acquire(families)
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    n = 200_000
    for service, path in (("clob", "/book"), ("gamma", "/markets")):
        families = classify(service, path)  # type: ignore[arg-type]
        us = min([await _run(families, n) for _ in range(3)])
        print(f"{service} {path}: {len(families)} families, {us:.2f} us per acquire (best of 3 x {n:,})")


if __name__ == "__main__":
    anyio.run(main)
