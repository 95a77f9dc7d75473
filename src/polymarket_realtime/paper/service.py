"""PaperService: paper sessions driven by routed live events, persisted in SQLite.

The facade over one shared :class:`~.core.PaperCore` (state, lock, commit path): the session lifecycle
is :mod:`.lifecycle`, order entry :mod:`.desk`, event reactions :mod:`.reactions`; matching (engine),
cash (ledger), risk, order rules, views and warm-up are their own modules.

Contract
--------
* Every state change (order, fill, position, cash, session state, activity entry) is computed on a
  copy, committed in **one** SQLite transaction, and only then applied in memory and reported. A crash
  at any point leaves the database with the change wholly applied or not at all, so a restart neither
  loses nor duplicates a fill (fill ids are ``<order_id>-f<n>``, a primary key).
* One :class:`anyio.Lock` serializes tool calls and event handling, so a fill and a cancel never race.
* Events arrive through a router sink drained by this service's own task (never the socket reader).
  Books are read from the shared :class:`BookStore`, which is updated before fan-out, so a dropped
  sink event only delays a fill until the next event for that token.
* Sessions subscribe their tokens through the feed manager (ref-counted there) while not stopped.
* :attr:`PaperService.changed` is notified after every committed change and every consumed event, so
  callers wait for a state (a fill, a halt, a settlement, :attr:`PaperService.idle`) without polling.
* The market fee schedule of each token is captured at creation and stored in the session row, so
  fees are the same after a restart whether or not Gamma answers then.
* Books warm up before trading (:mod:`.warmup`): ``create_session`` waits up to ``book_warmup_s`` for its
  tokens' live books and reports which are ready; ``place_order`` on a token whose book is not live yet
  waits up to ``order_book_wait_s`` (outside the service lock, on the book store's readiness signal)
  before refusing, and the refusal says how long it waited and what the feed is doing.
* :attr:`PaperService.system_gate` (the master switch) is checked before creating, resuming and any
  BUY; pausing, stopping, cancelling and SELLs never are, so exposure can always be reduced.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import anyio
import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..model.book import BookReader
from ..model.events import Event, Side
from ..model.paper_records import PositionRecord, SessionRecord
from ..routing.resolution import ResolutionFallback
from ..storage import orders as orders_db, sessions as sessions_db
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from . import commands as cmd, risk as risk_mod
from .core import FeedSubscriber, MarketLookup, PaperCore
from .desk import OrderDesk
from .engine import OrderType
from .ledger import Ledger, Position
from .lifecycle import SessionLifecycle
from .models import BulkStateResult, OrderResult, OrderView, SessionDetail, SessionList
from .reactions import EventReactions
from .session import LiveSession, summary
from .states import SessionState

__all__ = ["FeedSubscriber", "MarketLookup", "PaperService"]

log = logging.getLogger(__name__)
_PAPER_EVENTS = ("book", "price_change", "last_trade_price", "market_resolved")


class PaperService:
    def __init__(
        self,
        db: Database,
        activity: ActivityFeed,
        books: BookReader,
        *,
        feed: FeedSubscriber | None = None,
        markets: MarketLookup | None = None,
        clock: Clock = SYSTEM_CLOCK,
        resolution_poll_s: float = 60.0,
        resolution: ResolutionFallback | None = None,
        book_warmup_s: float = 0.0,
        order_book_wait_s: float = 0.0,
    ) -> None:
        self._core = PaperCore(db, activity, books, feed=feed, markets=markets, clock=clock)
        self._lifecycle = SessionLifecycle(self._core, book_warmup_s=book_warmup_s)
        self._reactions = EventReactions(self._core, self._lifecycle)
        self._desk = OrderDesk(self._core, self._reactions.check_losses, order_book_wait_s=order_book_wait_s)
        self._resolution_poll_s = resolution_poll_s
        self._resolution = resolution
        """The process's shared Gamma fallback (its events arrive through the router); None: run our own."""
        self._sessions = self._core.sessions
        self._activity = activity
        self.changed: ChangeSignal = self._core.changed
        """Notified after every committed change and after every consumed router event."""
        self._sink: Any = None
        self._handling = False

    @property
    def system_gate(self) -> Callable[[], None] | None:
        """The master switch (set by SystemService): raises StateError while the system is stopped.
        Checked before every start-type or exposure-increasing action; never for reducing ones."""
        return self._core.system_gate

    @system_gate.setter
    def system_gate(self, gate: Callable[[], None] | None) -> None:
        self._core.system_gate = gate

    @property
    def command_sink(self) -> cmd.CommandSink | None:
        """Receives every session command after its commit (see :mod:`.commands`); must not block."""
        return self._core.command_sink

    @command_sink.setter
    def command_sink(self, sink: cmd.CommandSink | None) -> None:
        self._core.command_sink = sink

    @property
    def events_seen(self) -> int:
        return self._core.events_seen

    @property
    def fills_made(self) -> int:
        return self._core.fills_made

    # --- lifecycle -----------------------------------------------------------------------------

    async def load(self) -> None:
        """Restore every session, position and resting order from the database."""

        def read(conn: sqlite3.Connection) -> list[tuple[SessionRecord, list[PositionRecord]]]:
            return [(s, sessions_db.load_positions(conn, s.id)) for s in sessions_db.load_sessions(conn)]

        loaded = await self._core.db.read(read)
        open_orders = await self._core.db.read(orders_db.load_open_orders)
        fills = await self._core.db.read(orders_db.fill_counts)
        self._core.sessions.clear()
        self._core.by_token.clear()
        for rec, positions in loaded:
            ledger = Ledger(cash=rec.cash, realized_pnl=rec.realized_pnl, fees_paid=rec.fees_paid)
            for p in positions:
                ledger.positions[p.token_id] = Position(p.token_id, p.size, p.cost, p.realized_pnl)
            sess = LiveSession(rec, ledger, risk_mod.RiskLimits.from_mapping(rec.risk), fill_count=fills.get(rec.id, 0))
            self._core.sessions[rec.id] = sess
            self._core.index(sess)
        for order in open_orders:
            owner = self._core.sessions.get(order.session_id)
            if owner is not None:
                owner.orders[order.id] = order

    async def start(self, task_group: anyio.abc.TaskGroup, router: Any | None = None) -> None:
        """Load state, re-subscribe live sessions' tokens and start the event consumer."""
        await self.load()
        # No "all markets" socket here: market_resolved for a session's tokens arrives on the token
        # sockets (custom features are on), and the Gamma resolution fallback covers a missing venue event. So the
        # server still opens no socket until something is subscribed.
        for sess in self._core.sessions.values():
            if sess.state is not SessionState.STOPPED:
                await self._core.subscribe(sess.rec.token_ids)
        if router is not None:
            sink = router.add_sink("paper", 10_000, event_types=_PAPER_EVENTS)
            self._sink = sink
            task_group.start_soon(self._consume, sink)
        if self._resolution is not None:
            self._resolution.watch_tokens(self._held_tokens)
        elif self._core.markets is not None:
            # No shared fallback (a standalone paper service): the same poller, settling us directly.
            fallback = ResolutionFallback(self._core.markets, clock=self._core.clock, poll_s=self._resolution_poll_s)
            fallback.watch_tokens(self._held_tokens)
            fallback.on_resolved(self._reactions.settle)
            task_group.start_soon(fallback.run)

    def _held_tokens(self) -> set[str]:
        return {t for s in self._core.sessions.values() for t, p in s.ledger.positions.items() if p.size}

    async def _consume(self, sink: Any) -> None:
        try:
            async for event in sink:
                self._handling = True  # set in the same step as the dequeue: `idle` never misses an event
                try:
                    await self.handle_event(event)
                except Exception:  # fan-out boundary: one bad event must not stop paper trading
                    log.exception("paper: failed to handle %s", getattr(event, "type", "?"))
                finally:
                    self._handling = False
                    self._core.changed.notify()
        finally:
            sink.close()

    @property
    def idle(self) -> bool:
        """No routed event queued for this service or being handled (its consumer has caught up)."""
        return not self._handling and (self._sink is None or len(self._sink) == 0)

    async def handle_event(self, event: Event) -> None:
        """Fill resting orders, settle resolutions and enforce loss limits for one routed event."""
        await self._reactions.handle_event(event)

    def emit_command(self, session_id: str, kind: str, data: dict[str, Any]) -> None:
        """Publish a command that is not a committed change (an agent's order intent)."""
        self._core.emit_command(session_id, kind, data)

    # --- queries -------------------------------------------------------------------------------

    def session_ids(self, state: SessionState | None = None) -> list[str]:
        return [s for s, v in self._sessions.items() if state is None or v.state is state]

    def counts_by_state(self) -> dict[str, int]:
        counts = {s.value: 0 for s in SessionState}
        for sess in self._sessions.values():
            counts[sess.rec.state] += 1
        return counts

    def state_of(self, session_id: str) -> str:
        return self._core.get(session_id).rec.state

    def position_size(self, session_id: str, token_id: str) -> Decimal:
        return self._core.get(session_id).ledger.size(token_id)

    def tokens_of(self, session_id: str) -> list[str]:
        return list(self._core.get(session_id).rec.token_ids)

    def list_sessions(self) -> SessionList:
        return SessionList(
            sessions=[summary(s, self._core.marks(s)) for s in self._sessions.values()], counts=self.counts_by_state()
        )

    async def get_session(self, session_id: str, *, fills: int = 20) -> SessionDetail:
        sess = self._core.get(session_id)
        recent = await self._core.db.read(lambda c: orders_db.load_fills(c, session_id, fills))
        return self._core.detail(sess, recent)

    # --- sessions ------------------------------------------------------------------------------

    async def create_session(
        self,
        name: str,
        *,
        starting_cash: Decimal = Decimal(1000),
        token_ids: Sequence[str] = (),
        market_ids: Sequence[str] = (),
        risk: Mapping[str, object] | None = None,
        fee_bps: Decimal | None = None,
    ) -> SessionDetail:
        return await self._lifecycle.create_session(
            name, starting_cash=starting_cash, token_ids=token_ids, market_ids=market_ids, risk=risk, fee_bps=fee_bps
        )

    async def pause(self, session_id: str, reason: str = "paused by user") -> SessionDetail:
        await self._lifecycle.pause(session_id, reason)
        return await self.get_session(session_id)

    async def resume(
        self, session_id: str, reason: str = "resumed by user", *, by_system: bool = False
    ) -> SessionDetail:
        """Resume a paused or halted session. ``by_system`` is start_system restoring it (no switch check)."""
        await self._lifecycle.resume(session_id, reason, by_system=by_system)
        return await self.get_session(session_id)

    async def stop(self, session_id: str, reason: str = "stopped by user") -> SessionDetail:
        await self._lifecycle.stop(session_id, reason)
        return await self.get_session(session_id)

    async def pause_all(self, reason: str = "paused by pause_all_sessions") -> BulkStateResult:
        return await self._lifecycle.pause_all(reason)

    async def resume_all(
        self, reason: str = "resumed by resume_all_sessions", *, only: Iterable[str] | None = None
    ) -> BulkStateResult:
        """Resume paused sessions (halted ones need an explicit resume_paper_session)."""
        return await self._lifecycle.resume_all(reason, only=only)

    # --- orders --------------------------------------------------------------------------------

    async def place_order(
        self,
        session_id: str,
        token_id: str,
        side: Side,
        size: Decimal,
        order_type: OrderType = "market",
        limit_price: Decimal | None = None,
        *,
        wait_s: float | None = None,
    ) -> OrderResult:
        """Place an order; on a book still warming up wait up to ``wait_s`` (default ``order_book_wait_s``)."""
        return await self._desk.place_order(session_id, token_id, side, size, order_type, limit_price, wait_s=wait_s)

    async def cancel_order(self, session_id: str, order_id: str) -> OrderView:
        return await self._desk.cancel_order(session_id, order_id)
