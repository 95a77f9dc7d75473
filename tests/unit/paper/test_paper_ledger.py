"""Pure ledger tests (P&L, settlement) and property tests: equity moves only by fees and marks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from polymarket_realtime.paper.engine import FeeModel, FeeSchedule
from polymarket_realtime.paper.ledger import Ledger


def test_average_price_and_realized_pnl() -> None:
    led = Ledger(cash=D("100"))
    led.apply_fill("t", "BUY", D("0.40"), D("10"), D("0.1"))
    led.apply_fill("t", "BUY", D("0.60"), D("10"), D("0"))
    pos = led.positions["t"]
    assert pos.size == 20 and pos.average_price == D("0.5")
    assert led.cash == D("100") - D("4") - D("0.1") - D("6")
    led.apply_fill("t", "SELL", D("0.70"), D("5"), D("0.05"))
    assert led.realized_pnl == D("1.00") and pos.size == 15 and pos.average_price == D("0.5")
    assert led.unrealized_pnl({"t": D("0.6")}) == D("1.5")
    assert led.fees_paid == D("0.15")


def test_cannot_oversell() -> None:
    led = Ledger(cash=D("10"))
    with pytest.raises(ValueError, match="only 0 held"):
        led.apply_fill("t", "SELL", D("0.5"), D("1"), D("0"))


def test_settlement_pays_one_or_zero() -> None:
    led = Ledger(cash=D("100"))
    led.apply_fill("yes", "BUY", D("0.30"), D("10"), D("0"))
    led.apply_fill("no", "BUY", D("0.60"), D("10"), D("0"))
    assert led.settle("yes", D("1")) == D("7.0")
    assert led.settle("no", D("0")) == D("-6.0")
    assert led.cash == D("100") - D("3") - D("6") + D("10")
    assert led.positions["yes"].size == 0 and led.realized_pnl == D("1.0")
    assert led.equity({}) == led.cash


prices = st.integers(min_value=1, max_value=99).map(lambda n: D(n) / 100)
sizes = st.integers(min_value=1, max_value=10_000).map(lambda n: D(n) / 10)
fills = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.booleans(), prices, sizes), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    fills=fills,
    bps=st.integers(min_value=0, max_value=200),
    rate=st.none() | st.integers(min_value=1, max_value=100).map(lambda n: D(n) / 1000),
    marks=st.tuples(prices, prices),
)
def test_equity_changes_only_by_fees_and_mark_moves(
    fills: list[tuple[str, bool, D, D]], bps: int, rate: D | None, marks: tuple[D, D]
) -> None:
    fee_model = FeeModel(fee_bps=D(bps), schedule=None if rate is None else FeeSchedule(rate=rate, exponent=1))
    led = Ledger(cash=D("1000000"))
    mark_map: dict[str, D | None] = {"a": marks[0], "b": marks[1]}
    before_realized = D(0)
    for token, buy, price, size in fills:
        before_equity = led.equity(mark_map)
        before_cash_plus_cost = led.cash + sum((p.cost for p in led.positions.values()), D(0))
        if not buy:
            size = min(size, led.size(token))
            if size == 0:
                continue
        fee = fee_model.fee(price, size, "taker")
        led.apply_fill(token, "BUY" if buy else "SELL", price, size, fee)
        sign = 1 if buy else -1
        mark = mark_map[token]
        assert mark is not None
        # Trading at `price` while marking at `mark`: equity moves by the fee and the mark gap, nothing else.
        assert led.equity(mark_map) == before_equity - fee + sign * size * (mark - price)
        # Cash + cost basis moves by exactly the realized P&L of the fill minus its fee.
        after = led.cash + sum((p.cost for p in led.positions.values()), D(0))
        assert after == before_cash_plus_cost + (led.realized_pnl - before_realized) - fee
        before_realized = led.realized_pnl
    # Exact bookkeeping identity over the whole sequence.
    at_cost = led.cash + sum((p.cost for p in led.positions.values()), D(0))
    assert at_cost == D("1000000") + led.realized_pnl - led.fees_paid
