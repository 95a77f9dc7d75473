"""SessionLifecycle: creating paper sessions and moving them between states.

Create checks the master switch and the active-session cap, resolves tokens and captures each market's
fee schedule (stored in the session row, so fees survive a restart whether or not Gamma answers then),
then warms the books up (:mod:`.warmup`). Pause, resume, stop and halt go through :meth:`set_state`,
one committed transition (:mod:`.states`) with its side effects: a resume from a halt restarts the
drawdown window, a stop cancels resting orders and releases the session's tokens.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from ..errors import InvalidInputError, NotFoundError, StateError
from ..model.paper_records import OrderRecord, SessionRecord
from ..storage import sessions as sessions_db
from . import risk as risk_mod
from .core import PaperCore
from .ledger import Ledger
from .models import BulkStateResult, SessionDetail
from .session import LiveSession, copy_order, fee_schedule_of, roll_day, schedule_to_dict, utc_day
from .states import Action, SessionState, transition
from .warmup import warm_up

__all__ = ["MAX_SESSIONS", "MAX_STARTING_CASH", "SessionLifecycle"]

ZERO = Decimal(0)
MAX_SESSIONS = 200
"""Active (running, paused or halted) sessions at once; stopped ones stay readable and do not count."""
MAX_STARTING_CASH = Decimal(10) ** 12


class SessionLifecycle:
    def __init__(self, core: PaperCore, *, book_warmup_s: float = 0.0) -> None:
        self._core = core
        self._book_warmup_s = book_warmup_s

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
        self._core.gate()
        active = sum(1 for s in self._core.sessions.values() if s.state is not SessionState.STOPPED)
        if active >= MAX_SESSIONS:
            raise StateError(
                f"At most {MAX_SESSIONS} active (running, paused or halted) paper sessions; stop one with "
                "stop_paper_session first (stopped sessions stay readable and do not count).",
                state="full",
            )
        tokens = await self._resolve_tokens(token_ids, market_ids)
        schedules: dict[str, dict[str, str]] = {}
        for token in tokens:
            schedule = fee_schedule_of(self._core.market_info.get(token))
            if schedule is not None:
                schedules[token] = schedule_to_dict(schedule)
        now = self._core.clock.time_ns()
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
        async with self._core.lock:

            def write(conn: sqlite3.Connection) -> None:
                sessions_db.insert_session(conn, rec)
                self._core.activity.add(
                    conn,
                    "session_created",
                    rec.id,
                    f"paper session {name!r} created with ${starting_cash}",
                    {"token_ids": tokens, "risk": rec.risk},
                )

            await self._core.db.write(write)
            sess = LiveSession(rec, Ledger(cash=starting_cash), limits)
            self._core.sessions[rec.id] = sess
            self._core.index(sess)
        self._core.activity.published()
        self._core.changed.notify()
        await self._core.subscribe(tokens)
        warmup = await warm_up(self._core.books, self._core.feed, tokens, self._book_warmup_s, self._core.clock)
        result = self._core.detail(sess, [])
        result.warmup = warmup
        return result

    async def _resolve_tokens(self, token_ids: Sequence[str], market_ids: Sequence[str]) -> list[str]:
        tokens: dict[str, None] = {}
        for token in token_ids:
            if self._core.markets is not None:
                try:
                    info = await self._core.markets.get_market(token)
                except NotFoundError:
                    raise NotFoundError(
                        f"Unknown token id {token!r}: no market has it. Use search_markets or get_market to find one."
                    ) from None
                self._core.market_info[token] = info
            tokens[token] = None
        for ref in market_ids:
            if self._core.markets is None:
                raise InvalidInputError(
                    "market_ids need the Gamma market lookup, which is not available; pass token_ids."
                )
            try:
                info = await self._core.markets.get_market(ref)
            except NotFoundError:
                raise NotFoundError(f"Unknown market {ref!r}. Use search_markets to find one.") from None
            if not info.outcomes:
                raise InvalidInputError(
                    f"market {ref!r} is not streamable yet: {info.unsupported_reason or 'it has no outcome ids'}; "
                    "pick another market (search_markets)."
                )
            for outcome in info.outcomes:
                self._core.market_info[outcome.token_id] = info
                tokens[outcome.token_id] = None
        return list(tokens)

    async def set_state(self, sess: LiveSession, action: Action, reason: str, *, kind: str) -> None:
        """Apply a transition (raising StateError if not allowed) with its side effects, committed."""
        new_state = transition(sess.state, action, session_id=sess.rec.id)
        change = self._core.begin(sess)
        change.rec.state = new_state.value
        change.rec.state_reason = reason
        if action is Action.RESUME and sess.state is SessionState.HALTED:
            marks = self._core.marks(sess)
            equity = sess.ledger.equity(marks)
            # Like freqtrade's protections, a resume restarts the drawdown window at the current equity;
            # the daily loss limit stays binding until the UTC day rolls over, which is checked here too
            # (a halted session sees no loss checks, so nothing else rolls its day).
            roll_day(change.rec, equity, self._core.clock.time_ns())
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
                o.status, o.reason, o.updated_ns = "cancelled", "session stopped", self._core.clock.time_ns()
                cancelled.append(o)
            change.updated_orders.extend(cancelled)
        msg = f"session {sess.rec.name!r} {sess.rec.state} -> {new_state.value}: {reason}"
        if cancelled:
            msg += f" ({len(cancelled)} resting orders cancelled)"
        change.activity.append((kind, msg, {"from": sess.rec.state, "to": new_state.value, "reason": reason}))
        await self._core.commit(sess, change)
        self._core.index(sess)
        if new_state is SessionState.STOPPED:
            await self._core.unsubscribe(sess.rec.token_ids)

    async def pause(self, session_id: str, reason: str) -> None:
        async with self._core.lock:
            sess = self._core.get(session_id)
            await self.set_state(sess, Action.PAUSE, reason, kind="session_paused")

    async def resume(self, session_id: str, reason: str, *, by_system: bool = False) -> None:
        """Resume a paused or halted session. ``by_system`` is start_system restoring it (no switch check)."""
        if not by_system:
            self._core.gate()
        async with self._core.lock:
            sess = self._core.get(session_id)
            await self.set_state(sess, Action.RESUME, reason, kind="session_resumed")

    async def stop(self, session_id: str, reason: str) -> None:
        async with self._core.lock:
            sess = self._core.get(session_id)
            await self.set_state(sess, Action.STOP, reason, kind="session_stopped")

    async def pause_all(self, reason: str) -> BulkStateResult:
        result = BulkStateResult(changed=[], skipped={})
        async with self._core.lock:
            for sess in list(self._core.sessions.values()):
                if sess.state is SessionState.RUNNING:
                    await self.set_state(sess, Action.PAUSE, reason, kind="session_paused")
                    result.changed.append(sess.rec.id)
                else:
                    result.skipped[sess.rec.id] = f"is {sess.rec.state}"
        return result

    async def resume_all(self, reason: str, *, only: Iterable[str] | None = None) -> BulkStateResult:
        """Resume paused sessions (halted ones need an explicit resume_paper_session)."""
        self._core.gate()
        wanted = None if only is None else set(only)
        result = BulkStateResult(changed=[], skipped={})
        async with self._core.lock:
            for sess in list(self._core.sessions.values()):
                if wanted is not None and sess.rec.id not in wanted:
                    continue
                if sess.state is SessionState.PAUSED:
                    await self.set_state(sess, Action.RESUME, reason, kind="session_resumed")
                    result.changed.append(sess.rec.id)
                else:
                    result.skipped[sess.rec.id] = f"is {sess.rec.state}" + (
                        " (resume it explicitly with resume_paper_session)" if sess.state is SessionState.HALTED else ""
                    )
        return result

    # --- orders --------------------------------------------------------------------------------
