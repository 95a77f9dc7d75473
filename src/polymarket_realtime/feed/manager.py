"""WebSocketManager: the venue sockets, their desired subscriptions, and the per-frame pipeline.

Over 400 lines: the coordinator wiring five channels' sockets to recovery and the pipeline (each of those,
the REST repair and status are their own modules); the freshness hooks are what is left here.

``async with WebSocketManager(...) as manager:`` runs every connection in the manager's own task group;
sockets open lazily on the first subscription and close when nobody wants anything on them.

Subscriptions are reference-counted (:mod:`.shards`): two subscribers to a token make one venue
subscription, and the last release sends the ``unsubscribe`` frame. Market tokens are sharded over
connections of at most ``max_assets_per_connection`` (opened slightly staggered); changes go out as
``operation`` frames without reconnecting. "All markets" events (``new_market``/``market_resolved``)
come from a dedicated market connection with no tokens and ``custom_feature_enabled``; every market
socket may repeat them, so they are de-duplicated.

Pipeline per frame (synchronous, inline in the socket reader): parse -> drop book events for tokens
nobody here wants (a ``price_change`` names both tokens of a market) -> ``books.apply`` ->
``router.route``. Freshness: when a market socket drops, its books are marked stale and a
``FeedStatus(state="stale")`` is routed; after the reconnect the books are rebuilt from the fresh
``book`` snapshots, and tokens with no snapshot within ``snapshot_fallback_s`` (also after a dynamic
subscribe, which may not send one) are fetched with ``POST /books`` (``source="rest"``). Crossed books
are resynced from REST too. Once every book of the socket is fresh, ``FeedStatus(state="resynced")``.
"""

from __future__ import annotations

import gc
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import StateError
from ..model.events import (
    FeedStatus,
)
from ..routing.router import EventRouter
from ..venues.polymarket.rest import ClobRestClient
from .backoff import Backoff
from .book_repair import BookRepair
from .books import BookStore
from .connection import Channel, ChannelSpec, FeedConnection, RawTap
from .contract import CredentialsProvider, FeedChannel, UserChannelState, UserCredentials
from .desired import DesiredSubscriptions
from .keepalive import Sleep
from .manager_status import manager_status
from .market_channel import STAGGER_S, MarketChannel
from .pipeline import FramePipeline
from .polybolt_feed import PolyBoltFeed
from .recovery import RecoveryTracker
from .rtds_channel import RtdsChannel
from .sports import SPORTS_CONNECTION_ID, no_initial_frames, sports_spec
from .stats import FeedStatistics
from .status import FeedStatusReport
from .user_channel import USER_REJECTED_ADVICE, UserChannel
from .user_gap import UserRestSource

__all__ = ["STAGGER_S", "USER_REJECTED_ADVICE", "CredentialsProvider", "UserCredentials", "WebSocketManager"]

logger = logging.getLogger(__name__)

FREEZE_GC_AFTER_SNAPSHOTS = True
"""``gc.freeze()`` each time a connection's books are all loaded (set False to keep the default GC)."""


class WebSocketManager:
    """Owns the market shards, the user socket, the RTDS socket and the PolyBolt sockets (:attr:`polybolt`).

    Args:
        settings: endpoints, timings, limits.
        books: the shared :class:`BookStore` (updated inline).
        router: the shared :class:`EventRouter` (events routed inline).
        clob_rest: REST client for snapshot fallback and resync.
        rng: randomness of the reconnect jitter (seed it in tests).
        clock: monotonic and wall time.
        sleep: the keepalive timers' sleep (with ``clock``, a virtual clock drives the ping cadence in tests;
            reconnect backoff and REST fallbacks use ``anyio.sleep`` regardless).
        polybolt_sleep: how PolyBolt waits out its reconnect delays (default ``anyio.sleep``; tests record them).
    """

    receives_raw_frames = True
    link_up = True
    """The sockets are this process's own: there is no link to a feed that could be down."""

    def __init__(
        self,
        settings: Settings,
        *,
        books: BookStore,
        router: EventRouter,
        clob_rest: ClobRestClient,
        rng: random.Random | None = None,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep = anyio.sleep,
        polybolt_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.books = books
        self.router = router
        self.clob_rest = clob_rest
        self.stats = FeedStatistics(clock)
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._sleep = sleep
        self._tg: TaskGroup | None = None
        self.lock = anyio.Lock()
        self._taps: list[RawTap] = []
        # Market channel.
        # What is wanted, per channel (ref-counted; the Redis consumer keeps the same structure).
        self.desired = DesiredSubscriptions()
        self._asset_refs = self.desired.assets
        self._wanted: dict[str, int] = self._asset_refs._counts  # read-only alias for the hot path
        self._marketch = MarketChannel(self)
        self._recovery = RecoveryTracker()
        self._awaiting = self._recovery.awaiting  # read-only alias for the hot path
        self._repair = BookRepair(
            settings,
            clob_rest=clob_rest,
            books=books,
            router=router,
            stats=self.stats,
            wanted=self._wanted,
            recovery=self._recovery,
            settle=self.settle,
        )
        self._user = UserChannel(self, sleep=self._sleep, rng=self._rng)
        self._rtds = RtdsChannel(self)
        self._pipeline = FramePipeline(
            books=books,
            router=router,
            stats=self.stats,
            wanted=self._wanted,
            awaiting=self._awaiting,
            settle=self.settle,
            user=self._user,
            repair=self._repair,
            spawn=self._spawn,
        )
        self._on_frame = self._pipeline.on_frame
        # Sports socket (no subscription frame: one connection, opened while anyone wants scores).
        self._sports_conn: FeedConnection | None = None
        self._closed_reconnects = 0  # reconnects of connections that were closed since
        # PolyBolt reference prices (feed/polybolt.py); ``polybolt_sleep`` waits out its reconnect delays.
        self.polybolt = PolyBoltFeed(
            settings,
            spawn=self._spawn,
            route=self._route_polybolt,
            taps=self._taps,
            rng=self._rng,
            clock=clock,
            sleep=polybolt_sleep,
        )

    # --- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> WebSocketManager:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        for conn in self._all_connections():
            conn.stop()
        self.polybolt.stop_all()
        tg, self._tg = self._tg, None
        if tg is None:
            return None
        tg.cancel_scope.cancel()
        return await tg.__aexit__(exc_type, exc, tb)

    def _spawn(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        if self._tg is None:
            raise StateError("the feed manager is not running (use `async with manager:`)", state="stopped")
        self._tg.start_soon(func, *args)

    def _all_connections(self) -> list[FeedConnection]:
        conns = list(self._marketch.shard_conns.values())
        conns.extend(c for c in (self._marketch.events_conn, self._user.conn, self._rtds.conn) if c is not None)
        if self._sports_conn is not None:
            conns.append(self._sports_conn)
        return conns

    @property
    def clock(self) -> Clock:
        return self._clock

    def open_connection(
        self,
        connection_id: str,
        spec: ChannelSpec,
        initial_frames: Callable[[bool], Awaitable[Sequence[str]]],
        *,
        start_delay_s: float = 0.0,
        assets: Callable[[], int] | None = None,
    ) -> FeedConnection:
        conn = FeedConnection(
            connection_id,
            spec,
            self.settings,
            initial_frames=initial_frames,
            on_frame=self._on_frame,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            taps=self._taps,
            backoff=Backoff(self.settings.reconnect_base_s, self.settings.reconnect_max_s, self._rng),
            clock=self._clock,
            sleep=self._sleep,
            start_delay_s=start_delay_s,
            assets=assets,
        )
        self._spawn(conn.run)
        return conn

    def close_connection(self, conn: FeedConnection) -> None:
        self._closed_reconnects += conn.reconnects
        conn.stop()

    def add_raw_tap(self, callback: RawTap) -> Callable[[], None]:
        """Call ``callback(channel, ts_recv_ns, frame)`` for every frame received; returns a remover."""
        self._taps.append(callback)

        def remove() -> None:
            if callback in self._taps:
                self._taps.remove(callback)

        return remove

    # --- market channel (feed/market_channel.py) ------------------------------------------------

    async def subscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Hold the given tokens (ref-counted); returns the ones newly subscribed at the venue."""
        return await self._marketch.subscribe_assets(asset_ids)

    async def unsubscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Release the tokens; returns the ones no longer subscribed at the venue (books discarded)."""
        return await self._marketch.unsubscribe_assets(asset_ids)

    async def subscribe_market_events(self) -> None:
        """Receive ``new_market``/``market_resolved`` for all markets (ref-counted)."""
        await self._marketch.subscribe_events()

    async def unsubscribe_market_events(self) -> None:
        await self._marketch.unsubscribe_events()

    # --- user channel and RTDS (feed/user_channel.py, feed/rtds_channel.py) ---------------------------

    def set_user_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        self._user.set_credentials_provider(provider)

    def set_user_rest(self, source: UserRestSource | None) -> None:
        self._user.set_rest(source)

    def user_auth_problem(self) -> str | None:
        return self._user.auth_problem()

    async def wait_user_first_attempt(self, timeout_s: float) -> None:
        await self._user.wait_first_attempt(timeout_s)

    def user_channel_state(self) -> UserChannelState:
        return self._user.state()

    async def subscribe_user_markets(self, condition_ids: Iterable[str]) -> None:
        """Watch the account's orders/trades in these markets (empty = all markets). Ref-counted."""
        await self._user.subscribe(condition_ids)

    async def unsubscribe_user_markets(self, condition_ids: Iterable[str]) -> None:
        await self._user.unsubscribe(condition_ids)

    async def subscribe_rtds(self, topic: str, type: str = "*") -> None:
        """Subscribe to an RTDS topic/type (ref-counted; filtering is local)."""
        await self._rtds.subscribe(topic, type)

    async def unsubscribe_rtds(self, topic: str, type: str = "*") -> None:
        await self._rtds.unsubscribe(topic, type)

    # --- PolyBolt reference prices ------------------------------------------------------------------

    def set_polybolt_credentials_provider(self, provider: CredentialsProvider | None) -> None:
        """The L2 trio for PolyBolt's ``auth`` frame (the user channel's provider fits)."""
        self.polybolt.provider = provider

    async def subscribe_reference_prices(self, keys: Iterable[str]) -> list[str]:
        """Hold reference-price subscriptions (``"crypto:btcusd"`` keys, ref-counted); AuthError without credentials."""
        return await self.polybolt.subscribe(keys)

    async def unsubscribe_reference_prices(self, keys: Iterable[str]) -> list[str]:
        return await self.polybolt.unsubscribe(keys)

    def _route_polybolt(self, event: Any) -> None:
        self.stats.count_type(event.type)
        if event.type != "feed_status":
            self.stats.record_events(1)
        self.router.route(event)

    # --- sports ---------------------------------------------------------------------------------

    async def subscribe_sports(self) -> None:
        """Receive every game update of the sports socket (ref-counted; filtering is local)."""
        async with self.lock:
            self.desired.sports.acquire()
            if self._sports_conn is None:
                spec = sports_spec(self.settings)
                refs = lambda: self.desired.sports.count  # noqa: E731 - status shows the holders as "assets"
                self._sports_conn = self.open_connection(SPORTS_CONNECTION_ID, spec, no_initial_frames, assets=refs)

    async def unsubscribe_sports(self) -> None:
        async with self.lock:
            if self.desired.sports.release() and self._sports_conn is not None:
                self.close_connection(self._sports_conn)
                self._sports_conn = None

    # --- freshness ------------------------------------------------------------------------------

    def _assets_of(self, conn: FeedConnection) -> tuple[str, ...]:
        if conn.spec.channel != "market" or not conn.connection_id[7:].isdigit():
            return ()
        return self._marketch.shards.assets_of(int(conn.connection_id[7:]))

    def _on_connected(self, conn: FeedConnection) -> None:
        assets = self._assets_of(conn)
        self.route_status(conn, "connected", f"connected to {conn.spec.url}", assets)
        if assets:
            self.await_snapshots(conn, assets)
            shard_id = int(conn.connection_id[7:])
            if set(assets) != self._marketch.sent_assets.get(shard_id):
                self._spawn(self._marketch.reconcile_shard, conn, shard_id)
        elif self._recovery.reconnected_without_books(conn.connection_id):
            self.route_status(conn, "resynced", "reconnected", ())
            if conn.spec.channel == "user" and self._user.gap is not None:
                self._user.gap_due = conn

    def _on_disconnected(self, conn: FeedConnection, reason: str) -> None:
        assets = self._assets_of(conn)
        self._recovery.disconnected(conn.connection_id, assets, stopped=conn.stopped)
        if conn.stopped:
            return
        if assets:
            self.books.mark_stale(assets, reason)
        if conn.spec.channel == "user" and self._user.gap is not None:
            self._user.gap.disconnected(self._clock.time_ns() / 1e9)
        self.route_status(conn, "stale" if assets else "disconnected", reason, assets)

    def route_status(self, conn: FeedConnection, state: str, detail: str, assets: Sequence[str]) -> None:
        channel: Channel = conn.spec.channel
        event = FeedStatus(
            ts_event_ms=self._clock.time_ns() // 1_000_000,
            ts_recv_ns=self._clock.time_ns(),
            channel=channel,
            connection_id=conn.connection_id,
            state=state,  # type: ignore[arg-type]  # callers pass FeedStatus states only
            detail=detail,
            asset_ids=tuple(assets),
        )
        self.stats.count_type("feed_status")
        self.router.route(event)

    def await_snapshots(self, conn: FeedConnection, assets: Iterable[str]) -> None:
        batch = [a for a in assets if a in self._wanted]
        self._recovery.expect(conn.connection_id, batch)
        if batch:
            self._spawn(self._repair.snapshot_fallback, conn, conn.attempts, batch)

    def settle(self, asset: str) -> None:
        """``asset`` no longer owes a snapshot; when its connection owes none, its books are all fresh."""
        cid = self._recovery.settle(asset)
        if cid is not None:
            self._books_loaded(cid)

    def _books_loaded(self, connection_id: str) -> None:
        if FREEZE_GC_AFTER_SNAPSHOTS:
            # The books just built live as long as the subscription: move them (and everything older)
            # out of the collector's generations, so later full collections stop re-scanning them.
            # Collect first so no garbage cycle is frozen (leaked). The collection only scans objects
            # created since the previous freeze, and this runs once per (re)subscription, never per event.
            # Measured: p99 at 2,000 msg/s 5 ms -> 0.5 ms (benchmarks/ingest.py).
            gc.collect()
            gc.freeze()
        self._maybe_resynced(connection_id)

    def _maybe_resynced(self, connection_id: str) -> None:
        if not self._recovery.resynced(connection_id):
            return
        conn = next((c for c in self._all_connections() if c.connection_id == connection_id), None)
        if conn is not None:
            self.stats.resyncs += 1
            self.route_status(conn, "resynced", "books rebuilt from fresh snapshots", self._assets_of(conn))

    # --- control and status ---------------------------------------------------------------------

    async def refresh_status(self, timeout_s: float = 0.5) -> bool:
        """Nothing to re-measure: ``status()`` reads the live sockets."""
        return True

    async def force_reconnect(self, channel: FeedChannel = "market") -> int:
        """Drop the channel's sockets into their reconnect loops; returns how many were dropped."""
        if channel == "polybolt":
            pconns = list(self.polybolt.connections.values())
            for pconn in pconns:
                pconn.force_reconnect("reconnect requested for the polybolt channel")
            return len(pconns)
        conns = [c for c in self._all_connections() if c.spec.channel == channel]
        for conn in conns:
            conn.force_reconnect(f"reconnect requested for the {channel} channel")
        return len(conns)

    def connections(self) -> list[FeedConnection]:
        return self._all_connections()

    def asset_feed_state(self, asset_id: str) -> str:
        """One sentence on what the feed is doing for ``asset_id`` (why its book may not be live yet)."""
        return self._marketch.asset_feed_state(asset_id, self._recovery)

    @property
    def wanted_assets(self) -> frozenset[str]:
        return self._asset_refs.wanted()

    def reconnect_count(self) -> int:
        return (
            self._closed_reconnects
            + sum(c.reconnects for c in self._all_connections())
            + self.polybolt.reconnect_count()
        )

    def status(self) -> FeedStatusReport:
        """Every channel's sockets and the feed statistics (``get_realtime_status``)."""
        return manager_status(self)
