"""OrderDesk: order entry for paper sessions (place, cancel) and the wait for a warm book.

An order is validated against the session's state, its tokens and the live book, walked through the
book (:mod:`.engine`), checked against cash and risk (:mod:`.orders`) and committed with its fills in
one transaction. On a token whose book is not live yet, :meth:`OrderDesk.place_order` first waits up to
``order_book_wait_s`` outside the service lock (on the book store's readiness signal) before refusing,
and the refusal says how long it waited and what the feed is doing. The master switch is checked
before a BUY only: a SELL or a cancel reduces exposure and is always allowed.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal

from ..errors import InvalidInputError, NotFoundError, StaleDataError, StateError
from ..model.events import Side
from ..model.paper_records import OrderRecord
from . import engine
from .core import PaperCore
from .engine import OrderType
from .models import OrderResult, OrderView, dec
from .orders import apply_plan, check_buy
from .session import LiveSession, copy_order, fill_view, order_view
from .states import SessionState, accepts_order
from .warmup import feed_state, wait_live

__all__ = ["OrderDesk"]

ZERO = Decimal(0)


class OrderDesk:
    def __init__(
        self,
        core: PaperCore,
        check_losses: Callable[[LiveSession], Awaitable[None]],
        *,
        order_book_wait_s: float = 0.0,
    ) -> None:
        self._core = core
        self._check_losses = check_losses
        """Halts the session on a loss breach after a fill (:meth:`.reactions.EventReactions.check_losses`)."""
        self._order_book_wait_s = order_book_wait_s

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
        sess = self._core.sessions.get(session_id)
        if (
            bound > 0
            and sess is not None
            and accepts_order(sess.state, increases_exposure=side == "BUY")
            and token_id in sess.rec.token_ids
            and not self._core.live(token_id)
        ):
            engine.check_order_shape(side=side, size=size, order_type=order_type, limit_price=limit_price)
            # Outside the lock: fills and other sessions' orders go on while this one waits.
            start = self._core.clock.monotonic()
            await wait_live(self._core.books, [token_id], bound)
            waited = self._core.clock.monotonic() - start
        async with self._core.lock:
            try:
                return await self._place(session_id, token_id, side, size, order_type, limit_price)
            except StaleDataError as exc:
                state = feed_state(self._core.feed, token_id)
                how_long = f"Waited {waited:.1f}s for a live book" if waited is not None else "Did not wait"
                raise StaleDataError(
                    f"{exc} {how_long} (limit {bound:g}s, POLYMARKET_ORDER_BOOK_WAIT_S); feed: {state}."
                ) from None

    async def _place(
        self,
        session_id: str,
        token_id: str,
        side: Side,
        size: Decimal,
        order_type: OrderType,
        limit_price: Decimal | None,
    ) -> OrderResult:
        sess = self._core.get(session_id)
        if token_id not in sess.rec.token_ids:
            raise NotFoundError(
                f"Token {token_id!r} is not part of session {session_id}; it trades only its own tokens.",
                known=sess.rec.token_ids,
            )
        if side not in ("BUY", "SELL"):
            raise InvalidInputError(f"side must be 'BUY' or 'SELL', not {side!r}.")
        increases = side == "BUY"
        if increases:
            self._core.gate()
        if not accepts_order(sess.state, increases_exposure=increases):
            if sess.state is SessionState.STOPPED:
                raise StateError(f"Session {session_id} is stopped; its history is read-only.", state=sess.rec.state)
            raise StateError(
                f"Session {session_id} is {sess.rec.state} ({sess.rec.state_reason}): only reducing (SELL) orders are "
                "accepted; call resume_paper_session first to BUY.",
                state=sess.rec.state,
            )
        book = self._core.books.get(token_id)
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
        assert book is not None  # validate_order refuses a missing book
        plan = engine.walk_book(engine.opposite_levels(book, side), size, limit_price=limit_price, side=side)
        if order_type == "market" and plan.size == 0:
            raise StateError(
                f"No {'asks' if side == 'BUY' else 'bids'} in the live book for {token_id}: nothing to fill against.",
                state="empty_book",
            )
        fees = self._core.fee_model(sess, token_id)
        if increases:
            fee_for = lambda t: self._core.fee_model(sess, t)  # noqa: E731
            check_buy(sess, token_id, size, order_type, limit_price, plan, fee_for, self._core.marks(sess))
        now = self._core.clock.time_ns()
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
        change = self._core.begin(sess)
        fills = apply_plan(change, order, plan, fees, now, self._core.mark)
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
        await self._core.commit(sess, change)
        await self._check_losses(sess)
        marks = self._core.marks(sess)
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
        async with self._core.lock:
            sess = self._core.get(session_id)
            order = sess.orders.get(order_id)
            if order is None:
                raise NotFoundError(
                    f"No open order {order_id!r} in session {session_id} (filled, cancelled or unknown).",
                    known=list(sess.orders),
                )
            change = self._core.begin(sess)
            o = copy_order(order)
            o.status, o.reason, o.updated_ns = "cancelled", "cancelled by user", self._core.clock.time_ns()
            change.updated_orders.append(o)
            change.activity.append(("order_cancelled", f"order {order_id} cancelled", {"order_id": order_id}))
            await self._core.commit(sess, change)
            return order_view(o)
