"""Event sources: what the simulator's broadcast loop pulls frames from.

The loop keeps a *virtual* clock (seconds since start, frozen while paused) and asks each source for
the frames due by that time. The market model is one source; a recording replay (issue 6) is another:
it implements the same protocol, pacing frames by their recorded times, and answers the initial-dump
and REST-book questions from the books it has replayed so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .market_model import MarketModel
from .wire import OutFrame

__all__ = ["BookSource", "EventSource", "ModelSource"]


@runtime_checkable
class EventSource(Protocol):
    """Something that produces frames over (virtual) time."""

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        """Frames due by ``sim_time_s`` (seconds since start, not advancing while paused)."""
        ...


@runtime_checkable
class BookSource(EventSource, Protocol):
    """An event source that also knows current books (the market channel's source)."""

    def is_known(self, asset_id: str) -> bool:
        """Whether a subscription to ``asset_id`` gets data (else the venue replies ``[]``)."""
        ...

    def book_event(self, asset_id: str) -> dict[str, Any] | None:
        """Current WS ``book`` event for the initial dump, or None if unknown."""
        ...

    def rest_book(self, asset_id: str) -> dict[str, Any] | None:
        """Current ``GET /book`` body, or None if unknown."""
        ...


class ModelSource:
    """Drives a :class:`MarketModel` at ``rate_per_s`` events per second of virtual time.

    Backlog is capped at 50 ms worth: a loop delayed by a busy machine catches up a little, but one
    tick never generates so much that it blocks PING replies for long.
    """

    def __init__(self, model: MarketModel, *, rate_per_s: float, tick_interval_s: float) -> None:
        self.model = model
        self.rate_per_s = rate_per_s
        self._tick = tick_interval_s
        self._last: float | None = None
        self._carry = 0.0

    def set_rate(self, per_s: float) -> None:
        self.rate_per_s = max(0.0, per_s)

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        last = self._last if self._last is not None else sim_time_s
        self._last = sim_time_s
        if self.rate_per_s <= 0:
            self._carry = 0.0
            return []
        due = self._carry + (sim_time_s - last) * self.rate_per_s
        due = min(due, max(2.0, 0.05 * self.rate_per_s))
        count = int(due)
        self._carry = due - count
        return self.model.step(count) if count else []

    def is_known(self, asset_id: str) -> bool:
        return self.model.is_known(asset_id)

    def book_event(self, asset_id: str) -> dict[str, Any] | None:
        return self.model.book_event(asset_id)

    def rest_book(self, asset_id: str) -> dict[str, Any] | None:
        return self.model.rest_book(asset_id)
