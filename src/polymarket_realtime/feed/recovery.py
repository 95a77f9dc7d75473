"""Book recovery state per connection: which tokens still owe a snapshot, which sockets await a resync (pure).

A market socket that (re)connects owes a ``book`` snapshot for each of its tokens (also after a dynamic
subscribe). A token is *settled* when its snapshot arrives (on the socket or from the REST fallback) or
when it stops being wanted. A connection that dropped is *recovering* (its books are stale); once it
owes no snapshot any more it is *resynced*. The manager does the I/O (REST fallback, ``feed_status``);
this tracker only decides, so the state machine is tested without sockets or an event loop.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["RecoveryTracker"]


class RecoveryTracker:
    """Snapshot debts per token and connection, and the set of connections recovering from a drop."""

    __slots__ = ("_owed", "_recovering", "awaiting")

    def __init__(self) -> None:
        self.awaiting: dict[str, str] = {}
        """Token -> the connection id still owing its snapshot (read on the hot path: do not replace)."""
        self._owed: dict[str, int] = {}  # connection id -> number of tokens in ``awaiting`` for it
        self._recovering: set[str] = set()

    def expect(self, connection_id: str, assets: Iterable[str]) -> None:
        """``connection_id`` owes a snapshot for each of ``assets`` (a debt moves from any older connection)."""
        for asset in assets:
            if self.awaiting.get(asset) != connection_id:
                self.settle(asset)
                self.awaiting[asset] = connection_id
                self._owed[connection_id] = self._owed.get(connection_id, 0) + 1

    def owes(self, asset: str, connection_id: str) -> bool:
        return self.awaiting.get(asset) == connection_id

    def owed_by(self, connection_id: str) -> int:
        return self._owed.get(connection_id, 0)

    def settle(self, asset: str) -> str | None:
        """``asset`` no longer owes a snapshot; returns its connection id when that connection owes none now."""
        cid = self.awaiting.pop(asset, None)
        if cid is None:
            return None
        left = self._owed.get(cid, 1) - 1
        if left > 0:
            self._owed[cid] = left
            return None
        self._owed.pop(cid, None)
        return cid

    def disconnected(self, connection_id: str, assets: Iterable[str], *, stopped: bool) -> None:
        """The connection dropped: its debts lapse; unless it was stopped on purpose it is now recovering."""
        for asset in assets:
            if self.awaiting.get(asset) == connection_id:
                self.settle(asset)
        if not stopped:
            self._recovering.add(connection_id)

    def recovering(self, connection_id: str) -> bool:
        return connection_id in self._recovering

    def reconnected_without_books(self, connection_id: str) -> bool:
        """A connection with no books came back: True (and no longer recovering) if it was recovering."""
        if connection_id not in self._recovering:
            return False
        self._recovering.discard(connection_id)
        return True

    def resynced(self, connection_id: str) -> bool:
        """True (once) when a recovering connection owes no snapshot any more: its books are all fresh."""
        if connection_id not in self._recovering or self._owed.get(connection_id):
            return False
        self._recovering.discard(connection_id)
        return True
