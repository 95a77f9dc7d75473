"""``ChannelHost``: the manager seen from one channel module (user, RTDS); keeps the channels free of the manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import anyio

from ..clock import Clock
from ..config import Settings
from ..routing.router import EventRouter
from .connection import ChannelSpec, FeedConnection
from .desired import DesiredSubscriptions
from .stats import FeedStatistics

__all__ = ["ChannelHost"]


class ChannelHost(Protocol):
    """What a channel needs from the manager: its settings, wanted set, lock, and socket/status plumbing."""

    settings: Settings
    desired: DesiredSubscriptions
    stats: FeedStatistics
    router: EventRouter
    lock: anyio.Lock

    @property
    def clock(self) -> Clock: ...

    def open_connection(
        self,
        connection_id: str,
        spec: ChannelSpec,
        initial_frames: Callable[[bool], Awaitable[Sequence[str]]],
        *,
        start_delay_s: float = 0.0,
        assets: Callable[[], int] | None = None,
    ) -> FeedConnection: ...

    def close_connection(self, conn: FeedConnection) -> None: ...

    def route_status(self, conn: FeedConnection, state: str, detail: str, assets: Sequence[str]) -> None: ...
