"""The REST rate limiter's pure parts: family classification, sliding windows, Retry-After and retry policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from polymarket_realtime.venues.polymarket.ratelimit import (
    FAMILIES,
    Family,
    RateLimiter,
    RetryPolicy,
    classify,
    parse_retry_after,
)
from tests.ratelimit_kit import FakeRateClock

pytestmark = pytest.mark.anyio


def test_documented_limits() -> None:
    limits = {name: f.limit for name, f in FAMILIES.items()}
    assert limits["gamma"] == 4000 and limits["gamma:/markets"] == 300 and limits["gamma:/events"] == 500
    assert limits["gamma:listing"] == 900 and limits["gamma:/public-search"] == 350
    assert limits["gamma:/comments"] == 200
    assert limits["clob"] == 9000 and limits["clob:/book"] == 1500 and limits["clob:/books"] == 500
    assert limits["clob:/price"] == 1500 and limits["clob:/prices"] == 500
    assert limits["clob:/midpoint"] == 1500 and limits["clob:/midpoints"] == 500
    assert limits["clob:/prices-history"] == 1000 and limits["clob:tick-size"] == 200
    assert limits["clob:/data/orders"] == 500 and limits["clob:/data/trades"] == 500 and limits["clob:auth"] == 100
    assert {f.window_s for f in FAMILIES.values()} == {10.0}


@pytest.mark.parametrize(
    ("service", "path", "families"),
    [
        ("gamma", "/markets", ("gamma", "gamma:/markets", "gamma:listing")),
        ("gamma", "/markets/keyset", ("gamma", "gamma:/markets", "gamma:listing")),
        ("gamma", "/events/123", ("gamma", "gamma:/events", "gamma:listing")),
        ("gamma", "/public-search", ("gamma", "gamma:/public-search")),
        ("gamma", "/comments", ("gamma", "gamma:/comments")),
        ("gamma", "/series", ("gamma",)),
        ("clob", "/markets", ("clob",)),
        ("clob", "/book", ("clob", "clob:/book")),
        ("clob", "/books", ("clob", "clob:/books")),
        ("clob", "/prices", ("clob", "clob:/prices")),
        ("clob", "/midpoint", ("clob", "clob:/midpoint")),
        ("clob", "/tick-size", ("clob", "clob:tick-size")),
        ("clob", "/tick-size/123", ("clob", "clob:tick-size")),
        ("clob", "/data/orders", ("clob", "clob:/data/orders")),
        ("clob", "/data/trades/", ("clob", "clob:/data/trades")),
        ("clob", "/auth/derive-api-key", ("clob", "clob:auth")),
        ("clob", "/time", ("clob",)),
    ],
)
def test_classify(service: str, path: str, families: tuple[str, ...]) -> None:
    assert classify(service, path) == families  # type: ignore[arg-type]


def test_retry_after_both_forms() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("7", now_s=now) == 7.0
    assert parse_retry_after(" 0 ", now_s=now) == 0.0
    date = format_datetime(datetime.fromtimestamp(now + 12, UTC), usegmt=True)
    assert parse_retry_after(date, now_s=now) == 12.0
    past = format_datetime(datetime.fromtimestamp(now - 30, UTC), usegmt=True)
    assert parse_retry_after(past, now_s=now) == 0.0
    for bad in (None, "", "soon", "-3", "nan"):
        assert parse_retry_after(bad, now_s=now) is None


async def test_window_delays_the_request_beyond_the_limit() -> None:
    clock = FakeRateClock()
    limiter = RateLimiter([Family("a", 3), Family("b", 100)], clock=clock)
    for _ in range(3):
        assert await limiter.acquire(["a", "b"]) == 0.0
        clock.advance(1.0)
    # Three requests at t=0,1,2; at t=3 the fourth must wait until the first leaves the window (t=10).
    assert await limiter.acquire(["a", "b"]) == pytest.approx(7.0)
    assert clock.sleeps == [pytest.approx(7.0)] and clock.now == pytest.approx(10.0)
    assert limiter.in_window("a") == 3 and limiter.in_window("b") == 3  # t=0 left both windows
    status = limiter.status()
    assert status["throttled"] == 1 and status["throttled_by_family"] == {"a": 1}
    assert status["throttled_wait_s"] == pytest.approx(7.0) and status["requests"] == 4
    # A family with room is not delayed by another family's full window.
    assert await limiter.acquire(["b"]) == 0.0


async def test_retry_delay_honours_retry_after_then_backs_off_then_gives_up() -> None:
    clock = FakeRateClock()
    limiter = RateLimiter(clock=clock, policy=RetryPolicy(attempts=3, base_s=0.5, max_wait_s=30), rng=random.Random(1))
    first = limiter.retry_delay(429, "4", 1)
    assert first is not None and 4.0 <= first <= 4.4
    second = limiter.retry_delay(503, None, 2)
    assert second is not None and 1.0 <= second <= 1.1  # base 0.5 doubled for the second retry
    assert limiter.retry_delay(429, "1", 3) is None  # attempts exhausted
    assert limiter.retry_delay(429, "120", 1) is None  # longer than max_wait_s: handed to the caller
    assert limiter.status() | {"throttled_by_family": {}} == {
        "requests": 0,
        "throttled": 0,
        "throttled_wait_s": 0.0,
        "retries": 2,
        "http_429": 3,
        "http_503": 1,
        "gave_up": 2,
        "throttled_by_family": {},
    }
