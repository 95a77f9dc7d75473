"""What the simulator saw, for tests: connections, frames received, PINGs, subscription sets.

Every change bumps :attr:`Observations.version` and wakes :meth:`Observations.wait_until`, so tests
wait on conditions instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ConnectionObservation", "Observations"]

_MAX_FRAMES = 10_000


@dataclass(eq=False, slots=True)
class ConnectionObservation:
    """One accepted websocket connection. Sets are live views of the connection's subscriptions."""

    conn_id: int
    path: str
    opened_at: float
    closed_at: float | None = None
    frames: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=_MAX_FRAMES))
    """Text frames received from the client, with ``time.monotonic()`` receive times."""
    pings: list[float] = field(default_factory=list)
    """Monotonic times of ``PING``/``ping`` text frames."""
    assets: set[str] = field(default_factory=set)
    markets: set[str] = field(default_factory=set)
    topics: set[tuple[str, str]] = field(default_factory=set)
    custom_features: bool = False
    subscribed: bool = False
    """The initial subscription frame was accepted."""
    authenticated: bool = False
    frames_sent: int = 0
    frames_dropped: int = 0
    """Frames not queued because this client fell more than 250,000 frames behind."""
    invalid_operations: int = 0

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def texts(self) -> list[str]:
        return [text for _, text in self.frames]


class Observations:
    """Counters and per-connection records; mutated only from the simulator's event loop."""

    def __init__(self) -> None:
        self.connections: list[ConnectionObservation] = []
        self.opened: Counter[str] = Counter()
        """Accepted connections per path ("/ws/market", "/ws/user", "/")."""
        self.refused = 0
        self.faults: list[tuple[float, str]] = []
        self.rest_requests: Counter[str] = Counter()
        """REST requests per ``METHOD path``."""
        self.version = 0
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ queries

    def on(self, path: str) -> list[ConnectionObservation]:
        """Every connection ever accepted on ``path``, oldest first."""
        return [c for c in self.connections if c.path == path]

    def open_on(self, path: str) -> list[ConnectionObservation]:
        return [c for c in self.connections if c.path == path and c.open]

    def last(self, path: str) -> ConnectionObservation | None:
        found = self.on(path)
        return found[-1] if found else None

    def subscribed_assets(self) -> set[str]:
        """Union of assets over open market connections."""
        out: set[str] = set()
        for conn in self.open_on("/ws/market"):
            out |= conn.assets
        return out

    # ------------------------------------------------------------------ mutation

    def connection_opened(self, conn_id: int, path: str) -> ConnectionObservation:
        conn = ConnectionObservation(conn_id=conn_id, path=path, opened_at=time.monotonic())
        self.connections.append(conn)
        self.opened[path] += 1
        self.notify()
        return conn

    def fault(self, kind: str) -> None:
        self.faults.append((time.monotonic(), kind))
        self.notify()

    def notify(self) -> None:
        """Wake every waiter; they re-check their predicates."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109  # part of the test-facing contract; applied inside
    ) -> None:
        """Return once ``predicate()`` holds; re-checked on every observation change.

        Raises:
            TimeoutError: it did not hold within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed
                if predicate():
                    return
                await changed.wait()
