"""Pure order helpers for a session: the pre-trade cash/risk check and booking a fill plan.

Both work on a :class:`~.session.LiveSession` / :class:`~.session.Change` and never touch I/O, so the
service can compute a whole change before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..errors import RiskLimitError
from ..model.events import Side
from ..storage import repository as repo
from . import risk as risk_mod
from .engine import ZERO, FeeModel, FillPlan, OrderType
from .session import Change, LiveSession

__all__ = ["apply_plan", "check_buy"]


def check_buy(
    sess: LiveSession,
    token_id: str,
    size: Decimal,
    order_type: OrderType,
    limit_price: Decimal | None,
    plan: FillPlan,
    fees: FeeModel,
    marks: dict[str, Decimal | None],
) -> None:
    """Free cash (cash minus resting buys) and the session's order limits, for an exposure-increasing order.

    Raises:
        RiskLimitError: naming ``cash`` or the risk limit broken.
    """
    rest = ZERO if order_type == "market" else (size - plan.size) * (limit_price or ZERO)
    notional = plan.notional + rest
    resting = [o for o in sess.orders.values() if o.side == "BUY"]
    resting_total = sum((o.remaining * (o.limit_price or ZERO) for o in resting), ZERO)
    resting_token = sum((o.remaining * (o.limit_price or ZERO) for o in resting if o.token_id == token_id), ZERO)
    pos = sess.ledger.positions.get(token_id)
    mark = marks.get(token_id)
    pos_value = ZERO if pos is None else pos.size * mark if mark is not None else pos.cost
    fee_estimate = sum((fees.fee(p, s, "taker") for p, s in plan.legs), ZERO)
    if notional + fee_estimate > sess.ledger.cash - resting_total:
        raise RiskLimitError(
            f"Insufficient cash: the order needs ${notional + fee_estimate:.2f} but "
            f"${sess.ledger.cash - resting_total:.2f} is free (cash minus resting buys).",
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
    order: repo.OrderRecord,
    plan: FillPlan,
    fees: FeeModel,
    now_ns: int,
    mark: Callable[[str], Decimal | None],
) -> list[repo.FillRecord]:
    """Book ``plan`` into ``change`` for ``order`` (mutated); returns the new fills.

    Fill ids are ``<order_id>-f<n>``: deterministic and a primary key, so a fill can never be stored twice.
    """
    fills: list[repo.FillRecord] = []
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
            repo.FillRecord(
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
