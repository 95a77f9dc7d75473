"""One server's wanted subscriptions, reference-counted like the WebSocketManager's (pure, no I/O).

Each ``add_*``/``remove_*`` says whether the server's :class:`~.leases.Interest` changed (first holder
in, last holder out), which is when the consumer rewrites its lease and joins or leaves streams.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..venues.polymarket import protocol
from .leases import Interest

__all__ = ["Wants"]


class Wants:
    """Reference counts per token, RTDS topic and user market, plus market events and all-markets user."""

    def __init__(self) -> None:
        self.assets: Counter[str] = Counter()
        self.market_events = 0
        self.rtds: Counter[tuple[str, str]] = Counter()
        self.user: Counter[str] = Counter()
        self.user_all = 0
        self.reference: Counter[str] = Counter()
        self.sports = 0

    def add_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Returns the tokens new to this server."""
        ids = protocol.require_token_ids(asset_ids)
        new = [a for a in ids if self.assets[a] == 0]
        self.assets.update(ids)
        return new

    def remove_assets(self, asset_ids: Iterable[str]) -> list[str]:
        """Returns the tokens nobody here holds any more (unknown ids are ignored)."""
        gone: list[str] = []
        for a in dict.fromkeys(asset_ids):
            if self.assets[a] <= 0:
                self.assets.pop(a, None)
                continue
            self.assets[a] -= 1
            if self.assets[a] == 0:
                del self.assets[a]
                gone.append(a)
        return gone

    def add_market_events(self) -> bool:
        self.market_events += 1
        return self.market_events == 1

    def remove_market_events(self) -> bool:
        if self.market_events == 0:
            return False
        self.market_events -= 1
        return self.market_events == 0

    def add_rtds(self, topic: str, kind: str) -> bool:
        self.rtds[(topic, kind)] += 1
        return self.rtds[(topic, kind)] == 1

    def remove_rtds(self, topic: str, kind: str) -> bool:
        key = (topic, kind)
        if self.rtds[key] <= 0:
            self.rtds.pop(key, None)
            return False
        self.rtds[key] -= 1
        if self.rtds[key]:
            return False
        del self.rtds[key]
        return True

    def add_reference(self, keys: Iterable[str]) -> bool:
        """PolyBolt keys; True when one is new to this server."""
        ids = list(dict.fromkeys(keys))
        new = any(self.reference[k] == 0 for k in ids)
        self.reference.update(ids)
        return new

    def remove_reference(self, keys: Iterable[str]) -> list[str]:
        """Returns the keys nobody here holds any more."""
        gone: list[str] = []
        for k in dict.fromkeys(keys):
            if self.reference[k] <= 0:
                self.reference.pop(k, None)
                continue
            self.reference[k] -= 1
            if self.reference[k] == 0:
                del self.reference[k]
                gone.append(k)
        return gone

    def add_sports(self) -> bool:
        self.sports += 1
        return self.sports == 1

    def remove_sports(self) -> bool:
        if self.sports == 0:
            return False
        self.sports -= 1
        return self.sports == 0

    def add_user(self, condition_ids: Iterable[str]) -> bool:
        """Empty = all markets."""
        ids = list(dict.fromkeys(condition_ids))
        if not ids:
            self.user_all += 1
            return self.user_all == 1
        new = any(self.user[c] == 0 for c in ids)
        self.user.update(ids)
        return new

    def remove_user(self, condition_ids: Iterable[str]) -> bool:
        ids = list(dict.fromkeys(condition_ids))
        changed = False
        if not ids and self.user_all > 0:
            self.user_all -= 1
            changed = self.user_all == 0
        for c in ids:
            if self.user[c] > 0:
                self.user[c] -= 1
                if self.user[c] == 0:
                    del self.user[c]
                    changed = True
        return changed

    @property
    def wants_user(self) -> bool:
        return bool(self.user) or self.user_all > 0

    def interest(self) -> Interest:
        return Interest(
            assets=frozenset(self.assets),
            market_events=self.market_events > 0,
            user_markets=frozenset(self.user),
            user_all=self.user_all > 0,
            rtds=frozenset(self.rtds),
            reference=frozenset(self.reference),
            sports=self.sports > 0,
        )

    def summary(self) -> dict[str, object]:
        return {
            "assets": len(self.assets),
            "market_events": self.market_events > 0,
            "rtds_topics": len(self.rtds),
            "reference_prices": len(self.reference),
            "sports": self.sports > 0,
            "user_markets": len(self.user),
            "user_all_markets": self.user_all > 0,
        }
