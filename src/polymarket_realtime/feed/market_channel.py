"""The market channel: token subscriptions sharded over sockets, plus the "all markets" events socket.

Market tokens are sharded over connections of at most ``max_assets_per_connection`` (opened slightly
staggered); changes go out as ``operation`` frames without reconnecting, and what each shard's socket has
actually been told is tracked so a change made while it connects is sent once it is up. ``new_market``/
``market_resolved`` come from a dedicated socket with no tokens and ``custom_feature_enabled``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from ..venues.polymarket import protocol
from ..venues.polymarket.parsing import parse_market_frame
from .books import BookStore
from .channel_host import ChannelHost
from .connection import ChannelSpec, FeedConnection
from .recovery import RecoveryTracker
from .shards import ShardAssigner

__all__ = ["STAGGER_S", "MarketChannel", "MarketHost"]

logger = logging.getLogger(__name__)

STAGGER_S = 0.05
"""Delay between opening successive new shards (the venue answers 429 to bursts of connects)."""


class MarketHost(ChannelHost, Protocol):
    books: BookStore

    def await_snapshots(self, conn: FeedConnection, assets: Iterable[str]) -> None: ...
    def settle(self, asset: str) -> None: ...


class MarketChannel:
    """The shards (shard id -> socket) and the market-events socket."""

    def __init__(self, host: MarketHost) -> None:
        self._host = host
        self.shards = ShardAssigner(host.settings.max_assets_per_connection)
        self.shard_conns: dict[int, FeedConnection] = {}
        # What each shard's socket has actually been told (initial frame + operation frames). A change
        # made while a shard is connecting misses both; reconcile_shard sends the difference.
        self.sent_assets: dict[int, set[str]] = {}
        self.events_conn: FeedConnection | None = None

    def spec(self, *, idle: bool) -> ChannelSpec:
        s = self._host.settings
        return ChannelSpec(
            channel="market",
            url=s.market_ws_url,
            ping_interval_s=s.ping_interval_s,
            pong_timeout_s=s.pong_timeout_s,
            # docs/polymarket-protocol.md#clob-ws-silent-freeze: the market socket can answer PING and stream nothing
            # for hours.
            idle_timeout_s=s.market_idle_timeout_s if idle else None,
            parse=parse_market_frame,
        )

    async def subscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Hold the given tokens (ref-counted); returns the ones newly subscribed at the venue."""
        ids = protocol.require_token_ids(asset_ids)
        async with self._host.lock:
            fresh = self._host.desired.assets.acquire(ids)
            opened = 0
            for change in self.shards.assign(fresh):
                conn = self.shard_conns.get(change.shard_id)
                if change.opened or conn is None:
                    self._open_shard(change.shard_id, start_delay_s=STAGGER_S * opened)
                    opened += 1
                elif await conn.send(protocol.market_subscribe_frame(change.add)):
                    self.sent_assets.setdefault(change.shard_id, set()).update(change.add)
                    # A dynamic subscribe may not send a snapshot (docs/polymarket-protocol.md#market-dynamic-ops): fall
                    # back to REST.
                    self._host.await_snapshots(conn, change.add)
            return fresh

    async def unsubscribe_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Release the tokens; returns the ones no longer subscribed at the venue (books discarded)."""
        ids = list(asset_ids)
        async with self._host.lock:
            gone = self._host.desired.assets.release(ids)
            for change in self.shards.unassign(gone):
                conn = self.shard_conns.get(change.shard_id)
                if conn is None:
                    continue
                if change.closed:
                    del self.shard_conns[change.shard_id]
                    self.sent_assets.pop(change.shard_id, None)
                    self._host.close_connection(conn)
                elif await conn.send(protocol.market_unsubscribe_frame(change.remove)):
                    self.sent_assets.get(change.shard_id, set()).difference_update(change.remove)
            for asset in gone:
                self._host.settle(asset)
                self._host.books.discard(asset)
            return gone

    def _open_shard(self, shard_id: int, *, start_delay_s: float) -> None:
        async def frames(refresh: bool) -> list[str]:
            assets = self.shards.assets_of(shard_id)
            self.sent_assets[shard_id] = set(assets)
            return [protocol.market_initial_frame(assets)]

        self.shard_conns[shard_id] = self._host.open_connection(
            f"market-{shard_id}",
            self.spec(idle=True),
            frames,
            start_delay_s=start_delay_s,
            assets=lambda: len(self.shards.assets_of(shard_id)),
        )

    async def subscribe_events(self) -> None:
        """Receive ``new_market``/``market_resolved`` for all markets (ref-counted)."""
        async with self._host.lock:
            self._host.desired.market_events.acquire()
            if self.events_conn is None:

                async def frames(refresh: bool) -> list[str]:
                    return [protocol.market_initial_frame([], custom_features=True)]

                # No data watchdog: new markets can be minutes apart.
                self.events_conn = self._host.open_connection("market-events", self.spec(idle=False), frames)

    async def unsubscribe_events(self) -> None:
        async with self._host.lock:
            if self._host.desired.market_events.release() and self.events_conn is not None:
                self._host.close_connection(self.events_conn)
                self.events_conn = None

    async def reconcile_shard(self, conn: FeedConnection, shard_id: int) -> None:
        """Send operation frames for assets added or removed while the shard's socket was connecting."""
        async with self._host.lock:
            if self.shard_conns.get(shard_id) is not conn or not conn.connected:
                return  # a newer connection (or none) owns the shard now; its own frames will be right
            wanted = set(self.shards.assets_of(shard_id))
            sent = self.sent_assets.setdefault(shard_id, set())
            add, remove = sorted(wanted - sent), sorted(sent - wanted)
            if add and await conn.send(protocol.market_subscribe_frame(add)):
                sent.update(add)
            if remove and await conn.send(protocol.market_unsubscribe_frame(remove)):
                sent.difference_update(remove)
            if add or remove:
                logger.info(
                    "%s: %d asset(s) added and %d removed while connecting, sent now",
                    conn.connection_id,
                    len(add),
                    len(remove),
                )

    def asset_feed_state(self, asset_id: str, recovery: RecoveryTracker) -> str:
        """One sentence on what the feed is doing for ``asset_id`` (why its book may not be live yet)."""
        if asset_id not in self._host.desired.assets:
            return "not subscribed"
        shard = self.shards.shard_of(asset_id)
        conn = self.shard_conns.get(shard) if shard is not None else None
        if conn is None:
            return "subscribed, no market socket assigned yet"
        text = f"socket {conn.connection_id} {conn.state} (attempt {conn.attempts})"
        if conn.state == "connected":
            if recovery.owes(asset_id, conn.connection_id):
                text += (
                    f", book snapshot requested and not received yet (REST fallback after "
                    f"{self._host.settings.snapshot_fallback_s:g}s)"
                )
            elif asset_id not in self._host.books:
                text += ", the venue sent no book for this token (neither on the socket nor via REST)"
        elif conn.state == "backoff" and conn.last_delay_s is not None:
            text += f", next attempt within {conn.last_delay_s:.2f}s"
        if conn.last_error and conn.state != "connected":
            text += f"; last error: {conn.last_error}"
        book = self._host.books.get(asset_id)
        if book is not None and book.stale:
            text += f"; book stale: {book.stale_reason}"
        return text
