"""How a paper session reacts to routed events: resting fills, loss halts and settlement.

Every reaction is computed on a copy and committed in one transaction under the service lock
(:class:`~.core.PaperCore`), like a tool call.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from ..model.events import Event, LastTrade, MarketResolved, Side
from ..model.paper_records import OrderRecord
from . import engine, risk as risk_mod
from .core import PaperCore
from .engine import ZERO
from .lifecycle import SessionLifecycle
from .models import dec
from .orders import apply_plan
from .session import LiveSession, copy_order, roll_day
from .states import Action, SessionState, fills_resting

__all__ = ["EventReactions"]

log = logging.getLogger(__name__)


class EventReactions:
    def __init__(self, core: PaperCore, lifecycle: SessionLifecycle) -> None:
        self._core = core
        self._lifecycle = lifecycle
        """Commits a halt as a state transition."""

    async def handle_event(self, event: Event) -> None:
        """Fill resting orders, settle resolutions and enforce loss limits for one routed event."""
        self._core.events_seen += 1
        if isinstance(event, MarketResolved):
            await self.settle(event)
            return
        token = getattr(event, "asset_id", None)
        if token is None:
            return
        ids = self._core.by_token.get(token)
        if not ids:
            return
        async with self._core.lock:
            for session_id in list(ids):
                sess = self._core.sessions[session_id]
                if fills_resting(sess.state) and any(o.token_id == token for o in sess.orders.values()):
                    await self._fill_resting(sess, token, event)
                if sess.ledger.size(token) and sess.state in (SessionState.RUNNING, SessionState.PAUSED):
                    await self.check_losses(sess)

    async def _fill_resting(self, sess: LiveSession, token: str, event: Event) -> None:
        """Fill this session's resting orders on ``token`` that the event (a trade print or the book) crosses.

        The crossing liquidity is allocated, not counted once per order: a trade print's size, or each
        book level's depth, is consumed by the orders it fills, in price-time priority (best limit first,
        then oldest). Each session is an independent simulation of one trader, so sessions do not share
        the liquidity with each other (the live book is never modified either; see engine).
        """
        book = self._core.books.get(token)
        is_trade = isinstance(event, LastTrade)
        if not is_trade and (book is None or book.stale):
            return
        change = self._core.begin(sess)
        now = self._core.clock.time_ns()
        fees = self._core.fee_model(sess, token)
        touched: list[OrderRecord] = []
        trade_left = event.size if isinstance(event, LastTrade) else ZERO
        used: dict[tuple[str, Decimal], Decimal] = {}
        """(side, level price) -> book depth already given to an earlier order in this pass."""
        for order in engine.priority(o for o in sess.orders.values() if o.token_id == token):
            assert order.limit_price is not None  # engine.priority keeps resting (limit) orders only
            side: Side = "BUY" if order.side == "BUY" else "SELL"
            consumed: list[tuple[Decimal, Decimal]] = []
            if isinstance(event, LastTrade):
                plan = engine.cross_trade(
                    side=side,
                    remaining=order.remaining,
                    limit_price=order.limit_price,
                    trade_price=event.price,
                    trade_size=trade_left,
                )
            else:
                assert book is not None  # a book event without a live book returned above
                levels = engine.less_used(engine.opposite_levels(book, side), used, side)
                plan, consumed = engine.cross_levels(
                    levels, side=side, remaining=order.remaining, limit_price=order.limit_price
                )
            if plan.size == 0:
                continue
            if side == "SELL" and plan.size > change.ledger.size(token):
                continue  # the position was settled or sold meanwhile; never oversell
            if side == "BUY":
                cost = plan.notional + sum((fees.fee(p, z, plan.liquidity) for p, z in plan.legs), ZERO)
                if cost > change.ledger.cash:
                    # Cannot happen while resting buys reserve their notional and worst-case fee; never go
                    # below zero cash if it somehow does.
                    log.error("paper session %s: resting BUY %s skipped, it would overdraw cash", sess.rec.id, order.id)
                    continue
            if isinstance(event, LastTrade):
                trade_left -= plan.size
            for price, size in consumed:
                used[(side, price)] = used.get((side, price), ZERO) + size
            o = copy_order(order)
            apply_plan(change, o, plan, fees, now, self._core.mark)
            if o.remaining == 0:
                o.status = "filled"
            touched.append(o)
            change.activity.append(
                ("order_filled", f"resting {o.side} {o.id} filled {plan.size} @ {o.limit_price}", {"order_id": o.id})
            )
        if touched:
            change.updated_orders.extend(touched)
            await self._core.commit(sess, change)

    async def check_losses(self, sess: LiveSession) -> None:
        """Roll the UTC day, track peak equity, and halt on a loss/drawdown breach (all committed).

        A new day or a new peak is committed at once (a session row write, no activity entry): after a
        crash the stored peak and day-start equity are never looser than what the limits last used.
        """
        if sess.state not in (SessionState.RUNNING, SessionState.PAUSED):
            return  # halted: resume rolls the day and restarts the drawdown window; stopped: read-only
        equity = sess.ledger.equity(self._core.marks(sess))
        change = self._core.begin(sess)
        moved = roll_day(change.rec, equity, self._core.clock.time_ns())
        if equity > change.rec.peak_equity:
            change.rec.peak_equity = equity
            moved = True
        if moved:
            await self._core.commit(sess, change)
        breach = risk_mod.loss_breach(
            sess.limits, equity=equity, day_start_equity=sess.rec.day_start_equity, peak_equity=sess.rec.peak_equity
        )
        if breach is None:
            return
        limit, reason = breach
        await self._lifecycle.set_state(sess, Action.HALT, f"halted by risk: {reason}", kind="risk_halt")
        log.warning("paper session %s halted: %s (%s)", sess.rec.id, reason, limit)

    async def settle(self, event: MarketResolved) -> None:
        async with self._core.lock:
            for sess in self._core.sessions.values():
                if sess.state is SessionState.STOPPED:
                    continue  # a stopped session's history is read-only: nothing settles into it
                held = [t for t in event.asset_ids if sess.ledger.size(t) > 0]
                resting = [o for o in sess.orders.values() if o.token_id in event.asset_ids]
                if not held and not resting:
                    continue
                change = self._core.begin(sess)
                now = self._core.clock.time_ns()
                for token in held:
                    payout = Decimal(1) if token == event.winning_asset_id else ZERO
                    size = change.ledger.size(token)
                    pnl = change.ledger.settle(token, payout)
                    change.tokens.add(token)
                    change.activity.append(
                        (
                            "position_settled",
                            f"{size} of {token[:12]}… settled at {payout} ({event.source}); realized {dec(pnl)}",
                            {"token_id": token, "payout": str(payout), "pnl": str(pnl), "source": event.source},
                        )
                    )
                for order in resting:
                    o = copy_order(order)
                    o.status, o.reason, o.updated_ns = "cancelled", "market resolved", now
                    change.updated_orders.append(o)
                change.snapshot_equity = change.ledger.equity({})
                await self._core.commit(sess, change)
