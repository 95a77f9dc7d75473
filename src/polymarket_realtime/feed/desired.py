"""What a process wants from the venue: one reference-counted set per channel (pure, no I/O).

:class:`DesiredSubscriptions` is shared by both feed backends: the :class:`~.manager.WebSocketManager`
turns its changes into venue frames, the Redis consumer into its lease. :class:`Interest` is its frozen
snapshot, which is also the Redis lease's wire value (``redisbus/leases.py``): the union of live leases
is what the feed process subscribes upstream.

Each ``add_*``/``remove_*`` says what changed (first holder in, last holder out): exactly the keys to
send in ``subscribe``/``unsubscribe`` frames, or when to rewrite a lease.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ..venues.polymarket import protocol
from .shards import RefCounts

__all__ = ["DesiredSubscriptions", "Holders", "Interest"]


class Interest(msgspec.Struct, frozen=True, kw_only=True):
    """One process's (or the union's) wanted upstream subscriptions."""

    assets: frozenset[str] = frozenset()
    market_events: bool = False
    user_markets: frozenset[str] = frozenset()
    user_all: bool = False
    """The account's orders/trades in every market (an empty market list at the venue)."""
    rtds: frozenset[tuple[str, str]] = frozenset()
    reference: frozenset[str] = frozenset()
    """PolyBolt reference-price keys (``"crypto:btcusd"``...)."""
    sports: bool = False
    """Game updates of the sports socket (one socket, no filter upstream)."""

    def union(self, other: Interest) -> Interest:
        return Interest(
            assets=self.assets | other.assets,
            market_events=self.market_events or other.market_events,
            user_markets=self.user_markets | other.user_markets,
            user_all=self.user_all or other.user_all,
            rtds=self.rtds | other.rtds,
            reference=self.reference | other.reference,
            sports=self.sports or other.sports,
        )

    @property
    def empty(self) -> bool:
        return not (
            self.assets
            or self.market_events
            or self.user_markets
            or self.user_all
            or self.rtds
            or self.reference
            or self.sports
        )


class Holders:
    """How many holders want a key-less channel (market events, sports, the user channel in all markets)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def acquire(self) -> bool:
        """One more holder; True for the first."""
        self.count += 1
        return self.count == 1

    def release(self) -> bool:
        """One holder fewer; True for the last (releasing an unheld channel is ignored)."""
        if self.count == 0:
            return False
        self.count -= 1
        return self.count == 0

    def __bool__(self) -> bool:
        return self.count > 0


class DesiredSubscriptions:
    """Reference counts per token, market-events holder, RTDS topic, user market, reference key and sports."""

    def __init__(self) -> None:
        self.assets: RefCounts[str] = RefCounts()
        self.market_events = Holders()
        self.rtds: RefCounts[tuple[str, str]] = RefCounts()
        self.user: RefCounts[str] = RefCounts()
        self.user_all = Holders()
        self.reference: RefCounts[str] = RefCounts()
        self.sports = Holders()

    def add_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Returns the tokens newly wanted (ids are validated first: nothing changes on a bad one)."""
        return self.assets.acquire(protocol.require_token_ids(asset_ids))

    def remove_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Returns the tokens nobody holds any more (unknown ids are ignored)."""
        return self.assets.release(asset_ids)

    def add_market_events(self) -> bool:
        return self.market_events.acquire()

    def remove_market_events(self) -> bool:
        return self.market_events.release()

    def add_rtds(self, topic: str, kind: str) -> bool:
        return bool(self.rtds.acquire([(topic, kind)]))

    def remove_rtds(self, topic: str, kind: str) -> bool:
        return bool(self.rtds.release([(topic, kind)]))

    def add_reference(self, keys: Iterable[str]) -> list[str]:
        """PolyBolt keys; returns the ones newly wanted."""
        return self.reference.acquire(keys)

    def remove_reference(self, keys: Iterable[str]) -> list[str]:
        """Returns the keys nobody holds any more."""
        return self.reference.release(keys)

    def add_sports(self) -> bool:
        return self.sports.acquire()

    def remove_sports(self) -> bool:
        return self.sports.release()

    def add_user(self, condition_ids: Iterable[str]) -> bool:
        """Empty = all markets. True when the wanted user interest grew."""
        ids = list(dict.fromkeys(condition_ids))
        if not ids:
            return self.user_all.acquire()
        return bool(self.user.acquire(ids))

    def remove_user(self, condition_ids: Iterable[str]) -> bool:
        ids = list(dict.fromkeys(condition_ids))
        if not ids:
            return self.user_all.release()
        return bool(self.user.release(ids))

    @property
    def wants_user(self) -> bool:
        return bool(self.user) or bool(self.user_all)

    def interest(self) -> Interest:
        return Interest(
            assets=self.assets.wanted(),
            market_events=bool(self.market_events),
            user_markets=self.user.wanted(),
            user_all=bool(self.user_all),
            rtds=self.rtds.wanted(),
            reference=self.reference.wanted(),
            sports=bool(self.sports),
        )

    def summary(self) -> dict[str, object]:
        return {
            "assets": len(self.assets),
            "market_events": bool(self.market_events),
            "rtds_topics": len(self.rtds),
            "reference_prices": len(self.reference),
            "sports": bool(self.sports),
            "user_markets": len(self.user),
            "user_all_markets": bool(self.user_all),
        }
