"""REST fault injection: answer the next N matching requests with 429 or 503 (with ``Retry-After``).

The venue's rate limiter (Cloudflare) answers ``429`` with a ``Retry-After`` in delta-seconds or as an
HTTP-date; overloaded hosts answer ``503``. Clients must wait at least the advertised delay. Control API:
``POST /_sim/fault {"kind": "http_429"|"http_503", "count", "path", "retry_after", "retry_after_s",
"http_date"}``: ``path`` is a prefix (default every non-control route), ``retry_after`` is sent verbatim,
``retry_after_s`` (or ``seconds``, as ``simulate --fault http_429 --seconds 5`` sends) is converted (to an
HTTP-date of the simulator's wall clock when ``http_date`` is true).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from .rest_server import HttpResponse, json_response

__all__ = ["RestFault", "RestFaults", "retry_after_value"]


def retry_after_value(seconds: float, *, http_date: bool, now_s: float) -> str:
    """A ``Retry-After`` header value for ``seconds`` from ``now_s`` (delta-seconds are whole, rounded up)."""
    if http_date:
        return format_datetime(datetime.fromtimestamp(now_s + seconds, UTC), usegmt=True)
    return str(max(0, int(-(-seconds // 1))))


@dataclass(slots=True)
class RestFault:
    status: int
    remaining: int
    path: str
    retry_after: str | None


class RestFaults:
    """Pending error answers, consumed first-in first-out by matching requests."""

    def __init__(self, now_s: Callable[[], float] = time.time) -> None:
        self._now_s = now_s
        self._pending: list[RestFault] = []
        self.served: dict[int, int] = {}
        """status -> error answers served so far."""

    def add(
        self,
        status: int,
        *,
        count: int = 1,
        path: str = "/",
        retry_after: str | None = None,
        retry_after_s: float | None = None,
        http_date: bool = False,
    ) -> RestFault:
        if status not in (429, 503):
            raise ValueError("REST faults answer 429 or 503")
        if count < 1:
            raise ValueError("'count' must be at least 1")
        if retry_after is None and retry_after_s is not None:
            retry_after = retry_after_value(retry_after_s, http_date=http_date, now_s=self._now_s())
        fault = RestFault(status, count, path or "/", retry_after)
        self._pending.append(fault)
        return fault

    def clear(self) -> None:
        self._pending.clear()

    def take(self, path: str) -> HttpResponse | None:
        """The error answer for a request to ``path``, if a pending fault matches (consuming one use)."""
        for fault in self._pending:
            if path.startswith(fault.path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._pending.remove(fault)
                self.served[fault.status] = self.served.get(fault.status, 0) + 1
                body = {"error": "Too Many Requests" if fault.status == 429 else "Service Unavailable"}
                response = json_response(body, fault.status)
                if fault.retry_after is not None:
                    return HttpResponse(response.status, response.body, headers={"Retry-After": fault.retry_after})
                return response
        return None

    @property
    def pending(self) -> int:
        return sum(f.remaining for f in self._pending)
