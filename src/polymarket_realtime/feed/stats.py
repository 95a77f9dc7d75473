"""Feed statistics: counters the status tool reports. Plain ints updated inline on the hot path."""

from __future__ import annotations

from collections import deque
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..venues.polymarket.parsing import ParsedFrame

__all__ = ["FeedStatistics"]

_WINDOW_S = 10
"""``events_per_s`` is the average over the last this-many whole seconds (plus the current one)."""


class FeedStatistics:
    """Totals since start. ``events_per_s`` uses one-second buckets over a sliding window."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self.started = clock.monotonic()
        self.total_events = 0
        self.events_by_type: dict[str, int] = {}
        self.frames = 0
        self.malformed_frames = 0
        self.unknown_events = 0
        self.unknown_event_names: dict[str, int] = {}
        self.invalid_operations = 0
        self.filtered_events = 0
        """Events for tokens nobody subscribed (a price_change names both tokens of a market)."""
        self.duplicate_events = 0
        """Market-wide events (new_market, market_resolved) already seen on another socket."""
        self.rest_snapshots = 0
        self.rest_errors = 0
        self.resyncs = 0
        self._bucket_second = int(self.started)
        self._bucket_count = 0
        self._buckets: deque[tuple[int, int]] = deque(maxlen=_WINDOW_S)

    def record_frame(self, frame: ParsedFrame) -> None:
        self.frames += 1
        if frame.malformed:
            self.malformed_frames += frame.malformed
        if frame.unknown:
            self.unknown_events += frame.unknown
            names = self.unknown_event_names
            for name in frame.unknown_types:
                names[name] = names.get(name, 0) + 1
        if frame.control == "invalid_operation":
            self.invalid_operations += 1

    def record_events(self, n: int) -> None:
        """Count ``n`` delivered events in the rate window (call once per frame)."""
        self.total_events += n
        second = int(self._clock.monotonic())
        if second != self._bucket_second:
            self._buckets.append((self._bucket_second, self._bucket_count))
            self._bucket_second = second
            self._bucket_count = 0
        self._bucket_count += n

    def count_type(self, event_type: str) -> None:
        by_type = self.events_by_type
        by_type[event_type] = by_type.get(event_type, 0) + 1

    def events_per_s(self) -> float:
        now = self._clock.monotonic()
        second = int(now)
        oldest = second - _WINDOW_S
        total = sum(c for s, c in self._buckets if s >= oldest)
        if self._bucket_second >= oldest:
            total += self._bucket_count
        span = min(float(_WINDOW_S) + (now - second), max(now - self.started, 1e-9))
        return round(total / span, 2)

    def uptime_s(self) -> float:
        return round(self._clock.monotonic() - self.started, 3)

    def snapshot(self, *, reconnect_count: int, dropped_events: int, connections: dict[str, Any]) -> dict[str, Any]:
        """The ``statistics`` part of ``get_realtime_status``."""
        return {
            "total_events": self.total_events,
            "events_by_type": dict(self.events_by_type),
            "malformed_frames": self.malformed_frames,
            "unknown_events": self.unknown_events,
            "unknown_event_names": dict(self.unknown_event_names),
            "invalid_operations": self.invalid_operations,
            "filtered_events": self.filtered_events,
            "duplicate_events": self.duplicate_events,
            "dropped_events": dropped_events,
            "rest_snapshots": self.rest_snapshots,
            "rest_errors": self.rest_errors,
            "resyncs": self.resyncs,
            "reconnect_count": reconnect_count,
            "uptime_s": self.uptime_s(),
            "events_per_s": self.events_per_s(),
            "connection_states": connections,
        }
