"""PaperCore: the state every part of the paper service shares, and its one commit path.

The in-memory sessions, the token index, the service lock and :meth:`PaperCore.commit` live here so
the session lifecycle (:mod:`.lifecycle`), order entry (:mod:`.desk`) and event reactions
(:mod:`.reactions`) change state the same way: compute on a copy (:meth:`PaperCore.begin`), commit in
one SQLite transaction, and only then apply in memory, emit commands and notify :attr:`changed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

import anyio

from ..clock import Clock
from ..errors import NotFoundError
from ..model.book import BookReader
from ..model.markets import MarketInfo
from ..model.paper_records import FillRecord
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from . import commands as cmd
from .engine import FeeModel
from .models import SessionDetail
from .session import (
    Change,
    LiveSession,
    apply_change,
    copy_rec,
    detail,
    schedule_from_dict,
    token_status,
    write_change,
)
from .states import SessionState

__all__ = ["FeedSubscriber", "MarketLookup", "PaperCore"]

log = logging.getLogger(__name__)
ZERO = Decimal(0)


class MarketLookup(Protocol):
    async def get_market(self, ref: str) -> MarketInfo: ...


class FeedSubscriber(Protocol):
    async def subscribe_assets(self, asset_ids: list[str]) -> Any: ...
    async def unsubscribe_assets(self, asset_ids: list[str]) -> Any: ...
    def asset_feed_state(self, asset_id: str) -> str: ...


class PaperCore:
    def __init__(
        self,
        db: Database,
        activity: ActivityFeed,
        books: BookReader,
        *,
        feed: FeedSubscriber | None,
        markets: MarketLookup | None,
        clock: Clock,
    ) -> None:
        self.db = db
        self.activity = activity
        self.books = books
        self.feed = feed
        self.markets = markets
        self.clock = clock
        self.lock = anyio.Lock()
        """Serializes tool calls and event handling, so a fill and a cancel never race."""
        self.sessions: dict[str, LiveSession] = {}
        self.market_info: dict[str, MarketInfo] = {}
        self.by_token: dict[str, set[str]] = {}
        """token -> ids of non-stopped sessions trading it."""
        self.events_seen = 0
        self.fills_made = 0
        self.changed = ChangeSignal()
        self.system_gate: Callable[[], None] | None = None
        self.command_sink: cmd.CommandSink | None = None

    # --- the commit path -----------------------------------------------------------------------

    def begin(self, sess: LiveSession) -> Change:
        return Change(rec=copy_rec(sess.rec), ledger=sess.ledger.copy())

    async def commit(self, sess: LiveSession, change: Change) -> None:
        """Write ``change`` in one transaction, then apply it in memory (only if the commit succeeded)."""
        now = self.clock.time_ns()
        await self.db.write(lambda conn: write_change(conn, change, self.activity, now))
        before = sess.rec.state
        apply_change(sess, change)
        sess.fill_count += len(change.fills)
        self.fills_made += len(change.fills)
        if self.command_sink is not None:
            for kind, data in cmd.commands_of(sess.rec.id, before, change):
                cmd.emit(self.command_sink, sess.rec.id, kind, data)
        if change.activity:
            self.activity.published()
        self.changed.notify()

    def emit_command(self, session_id: str, kind: str, data: dict[str, Any]) -> None:
        cmd.emit(self.command_sink, session_id, kind, data)

    # --- the index and lookups -----------------------------------------------------------------

    def index(self, sess: LiveSession) -> None:
        for token in sess.rec.token_ids:
            ids = self.by_token.setdefault(token, set())
            if sess.state is SessionState.STOPPED:
                ids.discard(sess.rec.id)
            else:
                ids.add(sess.rec.id)

    def get(self, session_id: str) -> LiveSession:
        sess = self.sessions.get(session_id)
        if sess is None:
            raise NotFoundError(f"Unknown paper session {session_id!r}.", known=list(self.sessions))
        return sess

    def gate(self) -> None:
        if self.system_gate is not None:
            self.system_gate()

    def mark(self, token_id: str) -> Decimal | None:
        book = self.books.get(token_id)
        if book is None:
            return None
        mid: Decimal | None = book.mid()
        return mid if mid is not None else book.last_trade_price

    def marks(self, sess: LiveSession) -> dict[str, Decimal | None]:
        return {t: self.mark(t) for t in sess.ledger.positions}

    def live(self, token_id: str) -> bool:
        book = self.books.get(token_id)
        return book is not None and not book.stale

    def fee_model(self, sess: LiveSession, token_id: str) -> FeeModel:
        """The market schedule captured (and persisted) when the session was created, else ``fee_bps``."""
        stored = sess.rec.fee_schedules.get(token_id)
        schedule = schedule_from_dict(stored) if stored is not None else None
        if schedule is not None:
            return FeeModel(schedule=schedule)
        return FeeModel(fee_bps=sess.rec.fee_bps or ZERO)

    def detail(self, sess: LiveSession, recent: list[FillRecord]) -> SessionDetail:
        tokens = [token_status(t, self.books.get(t), self.fee_model(sess, t).describe()) for t in sess.rec.token_ids]
        return detail(sess, self.marks(sess), recent, tokens)

    # --- feed subscriptions --------------------------------------------------------------------

    async def subscribe(self, tokens: Sequence[str]) -> None:
        if self.feed is not None and tokens:
            try:
                await self.feed.subscribe_assets(list(tokens))
            except Exception:
                log.warning("paper: could not subscribe %d tokens", len(tokens), exc_info=True)

    async def unsubscribe(self, tokens: Sequence[str]) -> None:
        if self.feed is not None and tokens:
            try:
                await self.feed.unsubscribe_assets(list(tokens))
            except Exception:
                log.warning("paper: could not unsubscribe %d tokens", len(tokens), exc_info=True)
