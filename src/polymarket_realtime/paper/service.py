# Over 400 lines: one service owning the session lifecycle, orders, fills and restore; split by noun in phase C.
"""PaperService: paper sessions driven by routed live events, persisted in SQLite.

Over 400 lines: the session lifecycle and order entry share one lock, one in-memory index and one
commit path; matching (engine), cash (ledger), risk, order rules, views and warm-up are their own modules.

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
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import anyio
import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, NotFoundError, StaleDataError, StateError
from ..model.book import BookReader
from ..model.events import Side
from ..model.markets import MarketInfo
from ..model.paper_records import FillRecord, OrderRecord, PositionRecord, SessionRecord
from ..routing.resolution import ResolutionFallback
from ..storage import orders as orders_db, sessions as sessions_db
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from . import commands as cmd, engine, risk as risk_mod
from .engine import FeeModel, OrderType
from .ledger import Ledger, Position
from .models import BulkStateResult, OrderResult, OrderView, SessionDetail, SessionList, dec
from .orders import apply_plan, check_buy
from .reactions import EventReactions
from .session import (
    Change,
    LiveSession,
    apply_change,
    copy_order,
    copy_rec,
    detail,
    fee_schedule_of,
    fill_view,
    order_view,
    roll_day,
    schedule_from_dict,
    schedule_to_dict,
    summary,
    token_status,
    utc_day,
    write_change,
)
from .states import Action, SessionState, accepts_order, transition
from .warmup import feed_state, wait_live, warm_up

__all__ = ["FeedSubscriber", "MarketLookup", "PaperService"]

log = logging.getLogger(__name__)
ZERO = Decimal(0)
MAX_SESSIONS = 200
"""Active (running, paused or halted) sessions at once; stopped ones stay readable and do not count."""
MAX_STARTING_CASH = Decimal(10) ** 12
_PAPER_EVENTS = ("book", "price_change", "last_trade_price", "market_resolved")


class MarketLookup(Protocol):
    async def get_market(self, ref: str) -> MarketInfo: ...


class FeedSubscriber(Protocol):
    async def subscribe_assets(self, asset_ids: list[str]) -> Any: ...
    async def unsubscribe_assets(self, asset_ids: list[str]) -> Any: ...
    def asset_feed_state(self, asset_id: str) -> str: ...


class PaperService(EventReactions):
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
        self._db = db
        self._activity = activity
        self._books = books
        self._feed = feed
        self._markets = markets
        self._clock = clock
        self._resolution_poll_s = resolution_poll_s
        self._resolution = resolution
        """The process's shared Gamma fallback (its events arrive through the router); None: run our own."""
        self._book_warmup_s = book_warmup_s
        self._order_book_wait_s = order_book_wait_s
        self._lock = anyio.Lock()
        self._sessions: dict[str, LiveSession] = {}
        self._market_info: dict[str, MarketInfo] = {}
        self._by_token: dict[str, set[str]] = {}
        """token -> ids of non-stopped sessions trading it."""
        self.events_seen = 0
        self.fills_made = 0
        self.changed = ChangeSignal()
        """Notified after every committed change and after every consumed router event."""
        self._sink: Any = None
        self._handling = False
        self.system_gate: Callable[[], None] | None = None
        """The master switch (set by SystemService): raises StateError while the system is stopped.
        Checked before every start-type or exposure-increasing action; never for reducing ones."""
        self.command_sink: cmd.CommandSink | None = None
        """Receives every session command after its commit (see :mod:`.commands`); must not block."""

    # --- lifecycle -----------------------------------------------------------------------------

    async def load(self) -> None:
        """Restore every session, position and resting order from the database."""

        def read(conn: sqlite3.Connection) -> list[tuple[SessionRecord, list[PositionRecord]]]:
            return [(s, sessions_db.load_positions(conn, s.id)) for s in sessions_db.load_sessions(conn)]

        loaded = await self._db.read(read)
        open_orders = await self._db.read(orders_db.load_open_orders)
        fills = await self._db.read(orders_db.fill_counts)
        self._sessions.clear()
        self._by_token.clear()
        for rec, positions in loaded:
            ledger = Ledger(cash=rec.cash, realized_pnl=rec.realized_pnl, fees_paid=rec.fees_paid)
            for p in positions:
                ledger.positions[p.token_id] = Position(p.token_id, p.size, p.cost, p.realized_pnl)
            sess = LiveSession(rec, ledger, risk_mod.RiskLimits.from_mapping(rec.risk), fill_count=fills.get(rec.id, 0))
            self._sessions[rec.id] = sess
            self._index(sess)
        for order in open_orders:
            owner = self._sessions.get(order.session_id)
            if owner is not None:
                owner.orders[order.id] = order

    async def start(self, task_group: anyio.abc.TaskGroup, router: Any | None = None) -> None:
        """Load state, re-subscribe live sessions' tokens and start the event consumer."""
        await self.load()
        # No "all markets" socket here: market_resolved for a session's tokens arrives on the token
        # sockets (custom features are on), and the Gamma resolution fallback covers a missing venue event. So the
        # server still opens no socket until something is subscribed.
        for sess in self._sessions.values():
            if sess.state is not SessionState.STOPPED:
                await self._subscribe(sess.rec.token_ids)
        if router is not None:
            sink = router.add_sink("paper", 10_000, event_types=_PAPER_EVENTS)
            self._sink = sink
            task_group.start_soon(self._consume, sink)
        if self._resolution is not None:
            self._resolution.watch_tokens(self._held_tokens)
        elif self._markets is not None:
            # No shared fallback (a standalone paper service): the same poller, settling us directly.
            fallback = ResolutionFallback(self._markets, clock=self._clock, poll_s=self._resolution_poll_s)
            fallback.watch_tokens(self._held_tokens)
            fallback.on_resolved(self._settle)
            task_group.start_soon(fallback.run)

    def _held_tokens(self) -> set[str]:
        return {t for s in self._sessions.values() for t, p in s.ledger.positions.items() if p.size}

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
                    self.changed.notify()
        finally:
            sink.close()

    @property
    def idle(self) -> bool:
        """No routed event queued for this service or being handled (its consumer has caught up)."""
        return not self._handling and (self._sink is None or len(self._sink) == 0)

    async def _subscribe(self, tokens: Sequence[str]) -> None:
        if self._feed is not None and tokens:
            try:
                await self._feed.subscribe_assets(list(tokens))
            except Exception:
                log.warning("paper: could not subscribe %d tokens", len(tokens), exc_info=True)

    async def _unsubscribe(self, tokens: Sequence[str]) -> None:
        if self._feed is not None and tokens:
            try:
                await self._feed.unsubscribe_assets(list(tokens))
            except Exception:
                log.warning("paper: could not unsubscribe %d tokens", len(tokens), exc_info=True)

    def _index(self, sess: LiveSession) -> None:
        for token in sess.rec.token_ids:
            ids = self._by_token.setdefault(token, set())
            if sess.state is SessionState.STOPPED:
                ids.discard(sess.rec.id)
            else:
                ids.add(sess.rec.id)

    # --- lookups -------------------------------------------------------------------------------

    def _get(self, session_id: str) -> LiveSession:
        sess = self._sessions.get(session_id)
        if sess is None:
            raise NotFoundError(f"Unknown paper session {session_id!r}.", known=list(self._sessions))
        return sess

    def session_ids(self, state: SessionState | None = None) -> list[str]:
        return [s for s, v in self._sessions.items() if state is None or v.state is state]

    def counts_by_state(self) -> dict[str, int]:
        counts = {s.value: 0 for s in SessionState}
        for sess in self._sessions.values():
            counts[sess.rec.state] += 1
        return counts

    def state_of(self, session_id: str) -> str:
        return self._get(session_id).rec.state

    def position_size(self, session_id: str, token_id: str) -> Decimal:
        return self._get(session_id).ledger.size(token_id)

    def tokens_of(self, session_id: str) -> list[str]:
        return list(self._get(session_id).rec.token_ids)

    def _mark(self, token_id: str) -> Decimal | None:
        book = self._books.get(token_id)
        if book is None:
            return None
        mid: Decimal | None = book.mid()
        return mid if mid is not None else book.last_trade_price

    def _marks(self, sess: LiveSession) -> dict[str, Decimal | None]:
        return {t: self._mark(t) for t in sess.ledger.positions}

    def _fee_model(self, sess: LiveSession, token_id: str) -> FeeModel:
        """The market schedule captured (and persisted) when the session was created, else ``fee_bps``."""
        stored = sess.rec.fee_schedules.get(token_id)
        schedule = schedule_from_dict(stored) if stored is not None else None
        if schedule is not None:
            return FeeModel(schedule=schedule)
        return FeeModel(fee_bps=sess.rec.fee_bps or ZERO)

    def _gate(self) -> None:
        if self.system_gate is not None:
            self.system_gate()

    def list_sessions(self) -> SessionList:
        return SessionList(
            sessions=[summary(s, self._marks(s)) for s in self._sessions.values()], counts=self.counts_by_state()
        )

    async def get_session(self, session_id: str, *, fills: int = 20) -> SessionDetail:
        sess = self._get(session_id)
        recent = await self._db.read(lambda c: orders_db.load_fills(c, session_id, fills))
        return self._detail(sess, recent)

    def _detail(self, sess: LiveSession, recent: list[FillRecord]) -> SessionDetail:
        tokens = [token_status(t, self._books.get(t), self._fee_model(sess, t).describe()) for t in sess.rec.token_ids]
        return detail(sess, self._marks(sess), recent, tokens)

    # --- persistence ---------------------------------------------------------------------------

    async def _commit(self, sess: LiveSession, change: Change) -> None:
        """Write ``change`` in one transaction, then apply it in memory (only if the commit succeeded)."""
        now = self._clock.time_ns()
        await self._db.write(lambda conn: write_change(conn, change, self._activity, now))
        before = sess.rec.state
        apply_change(sess, change)
        sess.fill_count += len(change.fills)
        self.fills_made += len(change.fills)
        if self.command_sink is not None:
            for kind, data in cmd.commands_of(sess.rec.id, before, change):
                cmd.emit(self.command_sink, sess.rec.id, kind, data)
        if change.activity:
            self._activity.published()
        self.changed.notify()

    def emit_command(self, session_id: str, kind: str, data: dict[str, Any]) -> None:
        """Publish a command that is not a committed change (an agent's order intent)."""
        cmd.emit(self.command_sink, session_id, kind, data)

    def _begin(self, sess: LiveSession) -> Change:
        return Change(rec=copy_rec(sess.rec), ledger=sess.ledger.copy())

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
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInputError("name must be 1-100 characters.")
        if not starting_cash.is_finite() or not 0 < starting_cash <= MAX_STARTING_CASH:
            raise InvalidInputError(
                f"starting_cash must be a positive USD amount of at most {MAX_STARTING_CASH:,}, not {starting_cash}."
            )
        if fee_bps is not None and (not fee_bps.is_finite() or not 0 <= fee_bps <= 1000):
            raise InvalidInputError(f"fee_bps must be between 0 and 1000, not {fee_bps}.")
        limits = risk_mod.RiskLimits.from_mapping(risk)
        if not token_ids and not market_ids:
            raise InvalidInputError("Give at least one token id (token_ids) or market (market_ids) to trade.")
        self._gate()
        active = sum(1 for s in self._sessions.values() if s.state is not SessionState.STOPPED)
        if active >= MAX_SESSIONS:
            raise StateError(
                f"At most {MAX_SESSIONS} active (running, paused or halted) paper sessions; stop one with "
                "stop_paper_session first (stopped sessions stay readable and do not count).",
                state="full",
            )
        tokens = await self._resolve_tokens(token_ids, market_ids)
        schedules: dict[str, dict[str, str]] = {}
        for token in tokens:
            schedule = fee_schedule_of(self._market_info.get(token))
            if schedule is not None:
                schedules[token] = schedule_to_dict(schedule)
        now = self._clock.time_ns()
        rec = SessionRecord(
            id="ps-" + secrets.token_hex(5),
            name=name,
            state=SessionState.RUNNING.value,
            state_reason="created",
            starting_cash=starting_cash,
            cash=starting_cash,
            realized_pnl=ZERO,
            fees_paid=ZERO,
            fee_bps=fee_bps,
            risk=limits.to_dict(),
            token_ids=tokens,
            market_ids=list(market_ids),
            peak_equity=starting_cash,
            day=utc_day(now),
            day_start_equity=starting_cash,
            created_ns=now,
            updated_ns=now,
            fee_schedules=schedules,
        )
        async with self._lock:

            def write(conn: sqlite3.Connection) -> None:
                sessions_db.insert_session(conn, rec)
                self._activity.add(
                    conn,
                    "session_created",
                    rec.id,
                    f"paper session {name!r} created with ${starting_cash}",
                    {"token_ids": tokens, "risk": rec.risk},
                )

            await self._db.write(write)
            sess = LiveSession(rec, Ledger(cash=starting_cash), limits)
            self._sessions[rec.id] = sess
            self._index(sess)
        self._activity.published()
        self.changed.notify()
        await self._subscribe(tokens)
        warmup = await warm_up(self._books, self._feed, tokens, self._book_warmup_s, self._clock)
        result = self._detail(sess, [])
        result.warmup = warmup
        return result

    async def _resolve_tokens(self, token_ids: Sequence[str], market_ids: Sequence[str]) -> list[str]:
        tokens: dict[str, None] = {}
        for token in token_ids:
            if self._markets is not None:
                try:
                    info = await self._markets.get_market(token)
                except NotFoundError:
                    raise NotFoundError(
                        f"Unknown token id {token!r}: no market has it. Use search_markets or get_market to find one."
                    ) from None
                self._market_info[token] = info
            tokens[token] = None
        for ref in market_ids:
            if self._markets is None:
                raise InvalidInputError(
                    "market_ids need the Gamma market lookup, which is not available; pass token_ids."
                )
            try:
                info = await self._markets.get_market(ref)
            except NotFoundError:
                raise NotFoundError(f"Unknown market {ref!r}. Use search_markets to find one.") from None
            if not info.outcomes:
                raise InvalidInputError(
                    f"market {ref!r} is not streamable yet: {info.unsupported_reason or 'it has no outcome ids'}; "
                    "pick another market (search_markets)."
                )
            for outcome in info.outcomes:
                self._market_info[outcome.token_id] = info
                tokens[outcome.token_id] = None
        return list(tokens)

    async def _set_state(self, sess: LiveSession, action: Action, reason: str, *, kind: str) -> None:
        """Apply a transition (raising StateError if not allowed) with its side effects, committed."""
        new_state = transition(sess.state, action, session_id=sess.rec.id)
        change = self._begin(sess)
        change.rec.state = new_state.value
        change.rec.state_reason = reason
        if action is Action.RESUME and sess.state is SessionState.HALTED:
            marks = self._marks(sess)
            equity = sess.ledger.equity(marks)
            # Like freqtrade's protections, a resume restarts the drawdown window at the current equity;
            # the daily loss limit stays binding until the UTC day rolls over, which is checked here too
            # (a halted session sees no loss checks, so nothing else rolls its day).
            roll_day(change.rec, equity, self._clock.time_ns())
            change.rec.peak_equity = equity
            breach = risk_mod.loss_breach(
                sess.limits, equity=equity, day_start_equity=change.rec.day_start_equity, peak_equity=equity
            )
            if breach is not None:
                raise StateError(
                    f"Cannot resume session {sess.rec.id}: {breach[1]}. It stays halted.", state=sess.rec.state
                )
        cancelled: list[OrderRecord] = []
        if new_state is SessionState.STOPPED:
            for order in sess.orders.values():
                o = copy_order(order)
                o.status, o.reason, o.updated_ns = "cancelled", "session stopped", self._clock.time_ns()
                cancelled.append(o)
            change.updated_orders.extend(cancelled)
        msg = f"session {sess.rec.name!r} {sess.rec.state} -> {new_state.value}: {reason}"
        if cancelled:
            msg += f" ({len(cancelled)} resting orders cancelled)"
        change.activity.append((kind, msg, {"from": sess.rec.state, "to": new_state.value, "reason": reason}))
        await self._commit(sess, change)
        self._index(sess)
        if new_state is SessionState.STOPPED:
            await self._unsubscribe(sess.rec.token_ids)

    async def pause(self, session_id: str, reason: str = "paused by user") -> SessionDetail:
        async with self._lock:
            sess = self._get(session_id)
            await self._set_state(sess, Action.PAUSE, reason, kind="session_paused")
        return await self.get_session(session_id)

    async def resume(
        self, session_id: str, reason: str = "resumed by user", *, by_system: bool = False
    ) -> SessionDetail:
        """Resume a paused or halted session. ``by_system`` is start_system restoring it (no switch check)."""
        if not by_system:
            self._gate()
        async with self._lock:
            sess = self._get(session_id)
            await self._set_state(sess, Action.RESUME, reason, kind="session_resumed")
        return await self.get_session(session_id)

    async def stop(self, session_id: str, reason: str = "stopped by user") -> SessionDetail:
        async with self._lock:
            sess = self._get(session_id)
            await self._set_state(sess, Action.STOP, reason, kind="session_stopped")
        return await self.get_session(session_id)

    async def pause_all(self, reason: str = "paused by pause_all_sessions") -> BulkStateResult:
        result = BulkStateResult(changed=[], skipped={})
        async with self._lock:
            for sess in list(self._sessions.values()):
                if sess.state is SessionState.RUNNING:
                    await self._set_state(sess, Action.PAUSE, reason, kind="session_paused")
                    result.changed.append(sess.rec.id)
                else:
                    result.skipped[sess.rec.id] = f"is {sess.rec.state}"
        return result

    async def resume_all(
        self, reason: str = "resumed by resume_all_sessions", *, only: Iterable[str] | None = None
    ) -> BulkStateResult:
        """Resume paused sessions (halted ones need an explicit resume_paper_session)."""
        self._gate()
        wanted = None if only is None else set(only)
        result = BulkStateResult(changed=[], skipped={})
        async with self._lock:
            for sess in list(self._sessions.values()):
                if wanted is not None and sess.rec.id not in wanted:
                    continue
                if sess.state is SessionState.PAUSED:
                    await self._set_state(sess, Action.RESUME, reason, kind="session_resumed")
                    result.changed.append(sess.rec.id)
                else:
                    result.skipped[sess.rec.id] = f"is {sess.rec.state}" + (
                        " (resume it explicitly with resume_paper_session)" if sess.state is SessionState.HALTED else ""
                    )
        return result

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
        bound = self._order_book_wait_s if wait_s is None else wait_s
        waited: float | None = None
        sess = self._sessions.get(session_id)
        if (
            bound > 0
            and sess is not None
            and accepts_order(sess.state, increases_exposure=side == "BUY")
            and token_id in sess.rec.token_ids
            and not self._live(token_id)
        ):
            engine.check_order_shape(side=side, size=size, order_type=order_type, limit_price=limit_price)
            # Outside the lock: fills and other sessions' orders go on while this one waits.
            start = self._clock.monotonic()
            await wait_live(self._books, [token_id], bound)
            waited = self._clock.monotonic() - start
        async with self._lock:
            try:
                return await self._place(session_id, token_id, side, size, order_type, limit_price)
            except StaleDataError as exc:
                state = feed_state(self._feed, token_id)
                how_long = f"Waited {waited:.1f}s for a live book" if waited is not None else "Did not wait"
                raise StaleDataError(
                    f"{exc} {how_long} (limit {bound:g}s, POLYMARKET_ORDER_BOOK_WAIT_S); feed: {state}."
                ) from None

    def _live(self, token_id: str) -> bool:
        book = self._books.get(token_id)
        return book is not None and not book.stale

    async def _place(
        self,
        session_id: str,
        token_id: str,
        side: Side,
        size: Decimal,
        order_type: OrderType,
        limit_price: Decimal | None,
    ) -> OrderResult:
        sess = self._get(session_id)
        if token_id not in sess.rec.token_ids:
            raise NotFoundError(
                f"Token {token_id!r} is not part of session {session_id}; it trades only its own tokens.",
                known=sess.rec.token_ids,
            )
        if side not in ("BUY", "SELL"):
            raise InvalidInputError(f"side must be 'BUY' or 'SELL', not {side!r}.")
        increases = side == "BUY"
        if increases:
            self._gate()
        if not accepts_order(sess.state, increases_exposure=increases):
            if sess.state is SessionState.STOPPED:
                raise StateError(f"Session {session_id} is stopped; its history is read-only.", state=sess.rec.state)
            raise StateError(
                f"Session {session_id} is {sess.rec.state} ({sess.rec.state_reason}): only reducing (SELL) orders are "
                "accepted; call resume_paper_session first to BUY.",
                state=sess.rec.state,
            )
        book = self._books.get(token_id)
        engine.validate_order(
            book, token_id=token_id, side=side, size=size, order_type=order_type, limit_price=limit_price
        )
        if side == "SELL":
            reserved = sum(
                (o.remaining for o in sess.orders.values() if o.token_id == token_id and o.side == "SELL"), ZERO
            )
            held = sess.ledger.size(token_id)
            if size > held - reserved:
                raise InvalidInputError(
                    f"Cannot sell {size} of {token_id}: {held} held, {reserved} already in resting sells "
                    "(paper trading is long-only; buy the other outcome to bet against this one)."
                )
        plan = engine.walk_book(engine.opposite_levels(book, side), size, limit_price=limit_price, side=side)
        if order_type == "market" and plan.size == 0:
            raise StateError(
                f"No {'asks' if side == 'BUY' else 'bids'} in the live book for {token_id}: nothing to fill against.",
                state="empty_book",
            )
        fees = self._fee_model(sess, token_id)
        if increases:
            fee_for = lambda t: self._fee_model(sess, t)  # noqa: E731
            check_buy(sess, token_id, size, order_type, limit_price, plan, fee_for, self._marks(sess))
        now = self._clock.time_ns()
        order = OrderRecord(
            id="po-" + secrets.token_hex(6),
            session_id=session_id,
            token_id=token_id,
            side=side,
            order_type=order_type,
            size=size,
            limit_price=limit_price,
            filled=ZERO,
            notional=ZERO,
            fees=ZERO,
            fill_count=0,
            status="open",
            reason="",
            created_ns=now,
            updated_ns=now,
        )
        change = self._begin(sess)
        fills = apply_plan(change, order, plan, fees, now, self._mark)
        if order_type == "market" or order.remaining == 0:
            if order.remaining > 0:
                order.status = "partially_filled"
                order.reason = f"book depth ran out; {order.remaining} unfilled and cancelled"
            else:
                order.status = "filled"
        change.new_orders.append(order)
        change.activity.append(
            (
                "order_placed",
                f"{side} {size} {token_id[:12]}… {order_type}"
                + (f" @ {limit_price}" if limit_price is not None else "")
                + f": {order.status}, filled {order.filled}",
                {"order_id": order.id, "fills": len(fills)},
            )
        )
        await self._commit(sess, change)
        await self._check_losses(sess)
        marks = self._marks(sess)
        message = {
            "filled": f"Filled {order.filled} at average {dec(order.average_price)}.",
            "partially_filled": order.reason,
            "open": "Resting; fills when the live book or a trade crosses the limit price."
            if order.filled == 0
            else f"Filled {order.filled} now; the rest rests at {limit_price}.",
        }[order.status]
        return OrderResult(
            order=order_view(order),
            fills=[fill_view(f) for f in fills],
            session_state=sess.rec.state,
            cash=dec(sess.ledger.cash) or "0",
            equity=dec(sess.ledger.equity(marks)) or "0",
            message=message,
        )

    async def cancel_order(self, session_id: str, order_id: str) -> OrderView:
        async with self._lock:
            sess = self._get(session_id)
            order = sess.orders.get(order_id)
            if order is None:
                raise NotFoundError(
                    f"No open order {order_id!r} in session {session_id} (filled, cancelled or unknown).",
                    known=list(sess.orders),
                )
            change = self._begin(sess)
            o = copy_order(order)
            o.status, o.reason, o.updated_ns = "cancelled", "cancelled by user", self._clock.time_ns()
            change.updated_orders.append(o)
            change.activity.append(("order_cancelled", f"order {order_id} cancelled", {"order_id": order_id}))
            await self._commit(sess, change)
            return order_view(o)
