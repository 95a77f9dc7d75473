"""Client-side rate limits for the venue's REST hosts, and ``Retry-After`` handling for 429/503.

Polymarket throttles per IP and per endpoint family on sliding 10-second windows (the table is in
``WEBSOCKET_INTEGRATION.md``, "Rate limits"). Every request belongs to one or more families (a Gamma
``/markets`` read counts against Gamma overall, ``/markets*``, and the combined ``/markets``+``/events``
listing budget). :class:`RateLimiter` keeps one sliding window per family and **waits** for room, never
rejects: the venue itself queues rather than refuses, so queuing here just keeps us out of its 429s.

One limiter is shared by every client of the process (:func:`shared_limiter`): the budgets are per IP,
so the CLOB client, the Gamma client and the account reads must draw from the same windows.
:class:`RateLimitedTransport` wraps an httpx2 transport, so each client opts in at construction only.

A ``429`` or ``503`` is retried a bounded number of times. The wait is at least the advertised
``Retry-After`` (delta-seconds or an HTTP-date, both forms occur) plus a little jitter, else exponential
backoff. A ``Retry-After`` longer than :attr:`RetryPolicy.max_wait_s` is not waited for: the response
goes back to the caller, which reports the venue as busy.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlsplit

import anyio
import httpx2

from ...clock import SYSTEM_CLOCK

__all__ = [
    "FAMILIES",
    "Family",
    "RateClock",
    "RateLimitedTransport",
    "RateLimiter",
    "RetryPolicy",
    "Service",
    "SystemRateClock",
    "classify",
    "parse_retry_after",
    "shared_limiter",
]

logger = logging.getLogger(__name__)

Service = Literal["gamma", "clob"]
RETRY_STATUSES: Final = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    limit: int
    window_s: float = 10.0


def _families(*rows: tuple[str, int]) -> dict[str, Family]:
    return {name: Family(name, limit) for name, limit in rows}


FAMILIES: Final = _families(
    ("gamma", 4000),
    ("gamma:/markets", 300),
    ("gamma:/events", 500),
    ("gamma:listing", 900),  # /markets* and /events* together
    ("gamma:/public-search", 350),
    ("gamma:/comments", 200),
    ("gamma:/tags", 200),
    ("clob", 9000),
    ("clob:/book", 1500),
    ("clob:/books", 500),
    ("clob:/price", 1500),
    ("clob:/prices", 500),
    ("clob:/midpoint", 1500),
    ("clob:/midpoints", 500),
    ("clob:/prices-history", 1000),
    ("clob:tick-size", 200),
    ("clob:/data/orders", 500),
    ("clob:/data/trades", 500),
    ("clob:auth", 100),
)
"""The documented per-IP limits (requests per 10 s window)."""

_CLOB_EXACT: Final = {
    "/book": "clob:/book",
    "/books": "clob:/books",
    "/price": "clob:/price",
    "/prices": "clob:/prices",
    "/midpoint": "clob:/midpoint",
    "/midpoints": "clob:/midpoints",
    "/prices-history": "clob:/prices-history",
    "/data/orders": "clob:/data/orders",
    "/data/trades": "clob:/data/trades",
}


def classify(service: Service, path: str) -> tuple[str, ...]:
    """The families a request to ``path`` (without the client's base path) counts against."""
    path = "/" + path.strip("/")
    if service == "gamma":
        out = ["gamma"]
        head = path.split("/", 2)[1]
        if head == "markets" or head == "events":
            # The keyset routes (/markets/keyset, /events/keyset) count as listings too: the docs do not
            # say otherwise, and over-counting only costs a little waiting.
            out += ["gamma:/" + head, "gamma:listing"]
        elif head in ("public-search", "comments", "tags"):
            out.append("gamma:/" + head)
        return tuple(out)
    if path.startswith("/auth/"):
        return ("clob", "clob:auth")
    if path == "/tick-size" or path.startswith("/tick-size/"):
        return ("clob", "clob:tick-size")
    specific = _CLOB_EXACT.get(path)
    return ("clob", specific) if specific else ("clob",)


def parse_retry_after(value: str | None, *, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None when absent or bad.

    ``now_s`` is the wall-clock time the response was read (an HTTP-date in the past means "now": 0).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives a naive value for "-0000"
            return None
        return max(0.0, when.timestamp() - now_s)
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


class RateClock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float:
        """Wall-clock Unix seconds (to read HTTP-date ``Retry-After`` values)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemRateClock:
    """The process clock (:data:`~polymarket_realtime.clock.SYSTEM_CLOCK`) plus a real sleep."""

    def monotonic(self) -> float:
        return SYSTEM_CLOCK.monotonic()

    def time(self) -> float:
        return SYSTEM_CLOCK.time_ns() / 1e9

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    """Total tries of one request (the first plus up to ``attempts - 1`` retries)."""
    base_s: float = 0.5
    """First backoff when the answer carries no ``Retry-After``; doubles per retry up to ``max_wait_s``."""
    max_wait_s: float = 30.0
    jitter: float = 0.1
    """Up to this fraction of the wait is added at random, so many callers do not retry in lockstep."""


@dataclass(slots=True)
class _Window:
    family: Family
    stamps: deque[float] = field(default_factory=deque)
    throttled: int = 0

    def wait_s(self, now: float) -> float:
        horizon = now - self.family.window_s
        stamps = self.stamps
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if len(stamps) < self.family.limit:
            return 0.0
        return stamps[-self.family.limit] + self.family.window_s - now


class RateLimiter:
    """Sliding-window limits per family plus the throttling/retry counters shown in ``get_realtime_status``."""

    def __init__(
        self,
        families: Iterable[Family] = FAMILIES.values(),
        *,
        clock: RateClock | None = None,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: RateClock = clock if clock is not None else SystemRateClock()
        self.policy = policy if policy is not None else RetryPolicy()
        self.rng = rng if rng is not None else random.Random()
        self._windows = {f.name: _Window(f) for f in families}
        self.requests = 0
        self.throttled = 0
        """Requests that had to wait for room in a family's window."""
        self.throttled_wait_s = 0.0
        self.retries = 0
        self.http_429 = 0
        self.http_503 = 0
        self.gave_up = 0
        """429/503 answers handed to the caller (attempts exhausted or ``Retry-After`` too long)."""

    async def acquire(self, families: Iterable[str]) -> float:
        """Wait until every family has room, then count the request in each; returns the seconds waited."""
        windows = [w for name in families if (w := self._windows.get(name)) is not None]
        waited = 0.0
        while True:
            now = self.clock.monotonic()
            wait = max((w.wait_s(now) for w in windows), default=0.0)
            if wait <= 0:
                break
            if waited == 0.0:
                self.throttled += 1
                for w in windows:
                    if w.wait_s(now) > 0:
                        w.throttled += 1
            waited += wait
            await self.clock.sleep(wait)
        for w in windows:
            w.stamps.append(now)
        self.requests += 1
        self.throttled_wait_s += waited
        return waited

    def retry_delay(self, status: int, retry_after: str | None, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` (1-based) of a 429/503, or None to give up."""
        if status == 429:
            self.http_429 += 1
        else:
            self.http_503 += 1
        policy = self.policy
        advertised = parse_retry_after(retry_after, now_s=self.clock.time())
        if retry >= policy.attempts or (advertised is not None and advertised > policy.max_wait_s):
            self.gave_up += 1
            return None
        base = advertised if advertised is not None else min(policy.max_wait_s, policy.base_s * 2 ** (retry - 1))
        self.retries += 1
        return base + base * policy.jitter * self.rng.random()

    def status(self) -> dict[str, Any]:
        """Compact counters; families appear only once they throttled something."""
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "throttled_wait_s": round(self.throttled_wait_s, 3),
            "retries": self.retries,
            "http_429": self.http_429,
            "http_503": self.http_503,
            "gave_up": self.gave_up,
            "throttled_by_family": {n: w.throttled for n, w in self._windows.items() if w.throttled},
        }

    def in_window(self, family: str) -> int:
        """Requests counted in ``family``'s current window (for tests and diagnostics)."""
        window = self._windows[family]
        window.wait_s(self.clock.monotonic())
        return len(window.stamps)


_shared: RateLimiter | None = None


def shared_limiter() -> RateLimiter:
    """The process-wide limiter every REST client draws from (created on first use)."""
    global _shared
    if _shared is None:
        _shared = RateLimiter()
    return _shared


class RateLimitedTransport(httpx2.AsyncBaseTransport):
    """Counts each request against its families (waiting for room) and retries 429/503 as documented above.

    Args:
        service: which host's families apply (Gamma and the CLOB share paths like ``/markets``).
        base_url: the client's base URL; its path prefix is stripped before classifying.
        inner: the real transport (default: a plain ``httpx2.AsyncHTTPTransport``).
        limiter: defaults to :func:`shared_limiter`.
    """

    def __init__(
        self,
        service: Service,
        base_url: str = "",
        *,
        inner: httpx2.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.service: Service = service
        self._prefix = urlsplit(base_url).path.rstrip("/")
        self._inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.limiter = limiter if limiter is not None else shared_limiter()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if self._prefix and path.startswith(self._prefix):
            path = path[len(self._prefix) :]
        families = classify(self.service, path)
        limiter = self.limiter
        retry = 0
        while True:
            await limiter.acquire(families)
            response = await self._inner.handle_async_request(request)
            if response.status_code not in RETRY_STATUSES:
                return response
            retry += 1
            delay = limiter.retry_delay(response.status_code, response.headers.get("retry-after"), retry)
            if delay is None:
                return response
            await response.aclose()
            logger.info(
                "%s %s answered %d; retry %d in %.2fs", request.method, path, response.status_code, retry, delay
            )
            await limiter.clock.sleep(delay)

    async def aclose(self) -> None:
        await self._inner.aclose()
