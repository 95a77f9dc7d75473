"""Pure order helpers for a session: the pre-trade cash/risk check and booking a fill plan.

Both work on a :class:`~.session.LiveSession` / :class:`~.session.Change` and never touch I/O, so the
service can compute a whole change before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..errors import RiskLimitError
from ..model.events import Side
from ..model.paper_records import FillRecord, OrderRecord
from . import risk as risk_mod
from .engine import ZERO, FeeModel, FillPlan, OrderType
from .session import Change, LiveSession

__all__ = ["apply_plan", "check_buy", "reserved_cash"]


def reserved_cash(order: OrderRecord, fees: FeeModel) -> Decimal:
    """Cash a resting BUY holds back: its remaining notional at the limit plus the worst-case fee of that fill."""
    if order.side != "BUY" or order.limit_price is None:
        return ZERO
    return order.remaining * order.limit_price + fees.reserve(order.limit_price, order.remaining)


def check_buy(
    sess: LiveSession,
    token_id: str,
    size: Decimal,
    order_type: OrderType,
    limit_price: Decimal | None,
    plan: FillPlan,
    fee_for: Callable[[str], FeeModel],
    marks: dict[str, Decimal | None],
) -> None:
    """Free cash and the session's order limits, for an exposure-increasing order.

    Free cash is cash minus what resting BUYs hold back (:func:`reserved_cash`: notional plus worst-case
    fee). The order needs the taker fees of what it fills now and, for a limit order's resting remainder,
    its notional plus worst-case fee, so no later fill can take cash below zero. Risk limits count
    notional only (fees are not exposure).

    Raises:
        RiskLimitError: naming ``cash`` or the risk limit broken.
    """
    fees = fee_for(token_id)
    rest_size = ZERO if order_type == "market" else size - plan.size
    rest = rest_size * (limit_price or ZERO)
    notional = plan.notional + rest
    resting = [o for o in sess.orders.values() if o.side == "BUY"]
    resting_total = sum((o.remaining * (o.limit_price or ZERO) for o in resting), ZERO)
    resting_token = sum((o.remaining * (o.limit_price or ZERO) for o in resting if o.token_id == token_id), ZERO)
    held_back = sum((reserved_cash(o, fee_for(o.token_id)) for o in resting), ZERO)
    pos = sess.ledger.positions.get(token_id)
    mark = marks.get(token_id)
    pos_value = ZERO if pos is None else pos.size * mark if mark is not None else pos.cost
    fee_estimate = sum((fees.fee(p, s, "taker") for p, s in plan.legs), ZERO)
    if rest_size > 0 and limit_price is not None:
        fee_estimate += fees.reserve(limit_price, rest_size)
    free = sess.ledger.cash - held_back
    if notional + fee_estimate > free:
        raise RiskLimitError(
            f"Insufficient cash: the order needs ${notional + fee_estimate:.2f} (incl. fees) but "
            f"${free:.2f} is free (cash minus resting buys and their fees).",
            limit="cash",
        )
    risk_mod.check_order(
        sess.limits,
        token_id=token_id,
        order_notional=notional,
        position_value=pos_value,
        total_position_value=sess.ledger.position_value(marks),
        resting_buy_notional=resting_total,
        resting_buy_notional_token=resting_token,
    )


def apply_plan(
    change: Change,
    order: OrderRecord,
    plan: FillPlan,
    fees: FeeModel,
    now_ns: int,
    mark: Callable[[str], Decimal | None],
) -> list[FillRecord]:
    """Book ``plan`` into ``change`` for ``order`` (mutated); returns the new fills.

    Fill ids are ``<order_id>-f<n>``: deterministic and a primary key, so a fill can never be stored twice.
    """
    fills: list[FillRecord] = []
    side: Side = "BUY" if order.side == "BUY" else "SELL"
    for price, size in plan.legs:
        fee = fees.fee(price, size, plan.liquidity)
        change.ledger.apply_fill(order.token_id, side, price, size, fee)
        order.fill_count += 1
        order.filled += size
        order.notional += price * size
        order.fees += fee
        order.updated_ns = now_ns
        fills.append(
            FillRecord(
                id=f"{order.id}-f{order.fill_count}",
                order_id=order.id,
                session_id=order.session_id,
                token_id=order.token_id,
                side=order.side,
                price=price,
                size=size,
                fee=fee,
                liquidity=plan.liquidity,
                ts_ns=now_ns,
            )
        )
    if fills:
        change.fills.extend(fills)
        change.tokens.add(order.token_id)
        change.snapshot_equity = change.ledger.equity({t: mark(t) for t in change.ledger.positions})
    return fills
