"""PolyBolt reference prices: ref-counted subscriptions sharded over sockets of at most 64.

Keys are ``"crypto:btcusd"``-style (see :mod:`..venues.polymarket.polybolt`); each shard is one
:class:`~.polybolt.PolyBoltConnection`. Events and ``FeedStatus`` (channel ``polybolt``) go to ``route``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import AuthError, StateError
from ..model.events import Event, FeedStatus
from ..venues.polymarket import polybolt as pb
from .polybolt import MISSING_CREDENTIALS, REFUSED_ADVICE, PolyBoltConnection, Provider, Sleep
from .shards import RefCounts, ShardAssigner
from .status import ChannelStatus, aggregate_sockets

__all__ = ["PolyBoltFeed"]


class PolyBoltFeed:
    """Ref-counted reference-price subscriptions over sharded :class:`PolyBoltConnection` sockets."""

    def __init__(
        self,
        settings: Settings,
        *,
        spawn: Callable[..., None],
        route: Callable[[Event], None],
        taps: list[Any],
        rng: random.Random,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep | None = None,
        max_per_socket: int = pb.MAX_SUBSCRIPTIONS,
    ) -> None:
        self.settings = settings
        self._spawn = spawn
        self._route = route
        self._taps = taps
        self._rng = rng
        self._clock = clock
        self._sleep: Sleep = sleep if sleep is not None else anyio.sleep
        self._refs: RefCounts[str] = RefCounts()
        self._shards = ShardAssigner(max_per_socket)
        self.connections: dict[int, PolyBoltConnection] = {}
        self.provider: Provider | None = None
        self._lock = anyio.Lock()
        self._closed_reconnects = 0

    def require_credentials(self) -> None:
        if self.provider is None:
            raise AuthError(MISSING_CREDENTIALS)
        # A socket that stopped (credentials refused, or a 4008 policy close) waits for an explicit
        # reconnect: a new subscription on it would answer "active" and then stay silent, so refuse it.
        for conn in self.connections.values():
            if conn.state != "failed":
                continue
            if conn.auth in ("refused", "missing"):
                raise AuthError(
                    f"PolyBolt refused the credentials ({conn.connection_id}): {conn.last_error}. "
                    f"Nothing was subscribed; fix the credentials and restart the server ({REFUSED_ADVICE})."
                )
            raise StateError(
                f"PolyBolt connection {conn.connection_id} is stopped: {conn.last_error}. Nothing was subscribed; "
                "it stops only on a bug of this server (a policy close or an internal error, logged): "
                "restart the server."
            )

    async def subscribe(self, keys: Iterable[str]) -> list[str]:
        """Hold the keys (ref-counted); returns the ones newly subscribed at the venue."""
        self.require_credentials()
        async with self._lock:
            fresh = self._refs.acquire(keys)
            for change in self._shards.assign(fresh):
                conn = self.connections.get(change.shard_id)
                if change.opened or conn is None:
                    self._open(change.shard_id)
                else:
                    await conn.sync()
            return fresh

    async def unsubscribe(self, keys: Iterable[str]) -> list[str]:
        async with self._lock:
            gone = self._refs.release(keys)
            for change in self._shards.unassign(gone):
                conn = self.connections.get(change.shard_id)
                if conn is None:
                    continue
                if change.closed:
                    del self.connections[change.shard_id]
                    self._closed_reconnects += conn.reconnects
                    conn.stop()
                else:
                    await conn.sync()
            return gone

    def _open(self, shard_id: int) -> None:
        conn = PolyBoltConnection(
            f"polybolt-{shard_id}",
            self.settings,
            keys=lambda: self._shards.assets_of(shard_id),
            provider=lambda: self.provider,
            on_events=self._deliver,
            on_status=self._status,
            taps=self._taps,
            rng=self._rng,
            clock=self._clock,
            sleep=self._sleep,
        )
        self.connections[shard_id] = conn
        self._spawn(conn.run)

    def _deliver(self, events: list[Event]) -> None:
        for event in events:
            self._route(event)

    def _status(self, conn: PolyBoltConnection, state: str, detail: str) -> None:
        now = self._clock.time_ns()
        self._route(
            FeedStatus(
                ts_event_ms=now // 1_000_000,
                ts_recv_ns=now,
                channel="polybolt",
                connection_id=conn.connection_id,
                state=state,  # type: ignore[arg-type]  # callers pass FeedStatus states only
                detail=detail,
            )
        )

    @property
    def wanted(self) -> frozenset[str]:
        return self._refs.wanted()

    def stop_all(self) -> None:
        for conn in self.connections.values():
            conn.stop()

    def reconnect_count(self) -> int:
        return self._closed_reconnects + sum(c.reconnects for c in self.connections.values())

    def status(self) -> ChannelStatus:
        shards = [c.status() for c in self.connections.values()]
        auth = sorted({s["auth"] for s in shards})
        return aggregate_sockets(
            self.settings.polybolt_ws_url,
            shards,
            len(self._refs),
            credentials="configured" if self.provider is not None else "missing",
            auth=auth[0] if len(auth) == 1 else ",".join(auth) if auth else "none",
            seq_gaps=sum(s["seq_gaps"] for s in shards),
            frames_lost=sum(s["frames_lost"] for s in shards),
        )
