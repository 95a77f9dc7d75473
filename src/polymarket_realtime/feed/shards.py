"""Ref-counted desired subscription set and its assignment to connections (pure).

Two halves, both sans-I/O so they are tested without sockets:

* :class:`RefCounts`: many consumers subscribing to one key (a token id, a condition id, an RTDS topic)
  make one venue subscription. ``acquire`` returns the keys that just became wanted, ``release`` the
  keys nobody wants any more: exactly the keys to send in ``subscribe``/``unsubscribe`` frames.
* :class:`ShardAssigner`: places wanted assets on connections ("shards") holding at most
  ``max_per_shard`` each, because data stops flowing above ~500 assets per socket
  (docs/polymarket-protocol.md#clob-ws-limits; we shard at 200). New assets fill the lowest-numbered
  shard that has room before a new shard is opened, so the
  gaps left by removals are reused and the number of sockets stays minimal. Plans say, per shard, what
  to add and remove and whether the shard is new (open a socket) or now empty (close it).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["RefCounts", "ShardAssigner", "ShardChange"]

K = TypeVar("K", bound=Hashable)


def _unique(keys: Iterable[K]) -> list[K]:
    # Order-preserving de-duplication: frames list assets in the caller's order.
    return list(dict.fromkeys(keys))


class RefCounts(Generic[K]):
    """Reference counts per key. Each ``acquire`` of a key must be matched by one ``release``."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[K, int] = {}

    def acquire(self, keys: Iterable[K]) -> list[K]:
        """Count one more holder of each key; return the keys that were not wanted before."""
        fresh: list[K] = []
        counts = self._counts
        for key in _unique(keys):
            n = counts.get(key, 0)
            counts[key] = n + 1
            if n == 0:
                fresh.append(key)
        return fresh

    def release(self, keys: Iterable[K]) -> list[K]:
        """Drop one holder of each key; return the keys now wanted by nobody.

        Releasing a key that is not held is ignored (idempotent unsubscribe).
        """
        gone: list[K] = []
        counts = self._counts
        for key in _unique(keys):
            n = counts.get(key, 0)
            if n <= 1:
                if n == 1:
                    del counts[key]
                    gone.append(key)
            else:
                counts[key] = n - 1
        return gone

    def count(self, key: K) -> int:
        return self._counts.get(key, 0)

    def wanted(self) -> frozenset[K]:
        return frozenset(self._counts)

    def __contains__(self, key: object) -> bool:
        return key in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def __iter__(self) -> Iterator[K]:
        return iter(self._counts)


@dataclass(frozen=True, slots=True)
class ShardChange:
    """What one shard (connection) must do after an assignment change."""

    shard_id: int
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    opened: bool = False
    """The shard did not exist: open a socket whose initial frame lists ``add``."""
    closed: bool = False
    """The shard holds nothing any more: close its socket (no unsubscribe frame needed)."""


@dataclass(slots=True)
class _Shard:
    assets: dict[str, None] = field(default_factory=dict)  # insertion-ordered set


class ShardAssigner:
    """Assign assets to shards of at most ``max_per_shard`` assets."""

    def __init__(self, max_per_shard: int) -> None:
        if max_per_shard <= 0:
            raise ValueError("max_per_shard must be positive")
        self.max_per_shard = max_per_shard
        self._shards: dict[int, _Shard] = {}
        self._where: dict[str, int] = {}

    def assign(self, assets: Iterable[str]) -> list[ShardChange]:
        """Place assets not yet assigned; returns one change per touched shard, by shard id."""
        added: dict[int, list[str]] = {}
        opened: set[int] = set()
        for asset in _unique(assets):
            if asset in self._where:
                continue
            shard_id = self._shard_with_room()
            if shard_id not in self._shards:
                self._shards[shard_id] = _Shard()
                opened.add(shard_id)
            self._shards[shard_id].assets[asset] = None
            self._where[asset] = shard_id
            added.setdefault(shard_id, []).append(asset)
        return [ShardChange(sid, add=tuple(added[sid]), opened=sid in opened) for sid in sorted(added)]

    def unassign(self, assets: Iterable[str]) -> list[ShardChange]:
        """Remove assets; a shard left empty is dropped (``closed=True``) and its id becomes reusable."""
        removed: dict[int, list[str]] = {}
        for asset in _unique(assets):
            shard_id = self._where.pop(asset, None)
            if shard_id is None:
                continue
            del self._shards[shard_id].assets[asset]
            removed.setdefault(shard_id, []).append(asset)
        changes = []
        for sid in sorted(removed):
            empty = not self._shards[sid].assets
            if empty:
                del self._shards[sid]
            changes.append(ShardChange(sid, remove=tuple(removed[sid]), closed=empty))
        return changes

    def _shard_with_room(self) -> int:
        for sid in sorted(self._shards):
            if len(self._shards[sid].assets) < self.max_per_shard:
                return sid
        # Lowest free id, so ids stay small and stable across churn.
        sid = 0
        while sid in self._shards:
            sid += 1
        return sid

    def shard_of(self, asset: str) -> int | None:
        return self._where.get(asset)

    def assets_of(self, shard_id: int) -> tuple[str, ...]:
        shard = self._shards.get(shard_id)
        return tuple(shard.assets) if shard else ()

    def shard_ids(self) -> list[int]:
        return sorted(self._shards)

    def __len__(self) -> int:
        return len(self._where)
