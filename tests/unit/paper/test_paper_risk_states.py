"""Risk limits and the session state machine (pure)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from polymarket_realtime.errors import InvalidInputError, RiskLimitError, StateError
from polymarket_realtime.paper.risk import RiskLimits, check_order, loss_breach
from polymarket_realtime.paper.states import (
    Action,
    SessionState,
    accepts_order,
    fills_resting,
    transition,
    user_actions,
)


def _check(limits: RiskLimits, notional: str, pos: str = "0", total: str = "0", resting: str = "0") -> None:
    check_order(
        limits,
        token_id="t",
        order_notional=D(notional),
        position_value=D(pos),
        total_position_value=D(total),
        resting_buy_notional=D(resting),
        resting_buy_notional_token=D(resting),
    )


def test_order_limits_named() -> None:
    limits = RiskLimits.from_mapping({"max_order_usd": 50, "max_position_usd": "80", "max_total_exposure_usd": 100})
    _check(limits, "50")
    with pytest.raises(RiskLimitError, match="max_order_usd") as err:
        _check(limits, "50.01")
    assert err.value.limit == "max_order_usd"
    with pytest.raises(RiskLimitError) as err:
        _check(limits, "40", pos="45")
    assert err.value.limit == "max_position_usd"
    with pytest.raises(RiskLimitError) as err:
        _check(limits, "40", total="70")
    assert err.value.limit == "max_total_exposure_usd"


def test_loss_breaches() -> None:
    limits = RiskLimits(max_daily_loss_usd=D("10"), max_drawdown_pct=D("20"))
    assert loss_breach(limits, equity=D("95"), day_start_equity=D("100"), peak_equity=D("100")) is None
    hit = loss_breach(limits, equity=D("90"), day_start_equity=D("100"), peak_equity=D("100"))
    assert hit is not None and hit[0] == "max_daily_loss_usd"
    dd = loss_breach(limits, equity=D("119"), day_start_equity=D("120"), peak_equity=D("150"))
    assert dd is not None and dd[0] == "max_drawdown_pct"


@pytest.mark.parametrize(
    ("raw", "match"),
    [({"max_foo": 1}, "unknown risk limit"), ({"max_order_usd": -1}, "positive"), ({"max_drawdown_pct": 150}, "100")],
)
def test_bad_limits(raw: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        RiskLimits.from_mapping(raw)


def test_transitions() -> None:
    assert transition(SessionState.RUNNING, Action.PAUSE) is SessionState.PAUSED
    assert transition(SessionState.PAUSED, Action.RESUME) is SessionState.RUNNING
    assert transition(SessionState.RUNNING, Action.HALT) is SessionState.HALTED
    assert transition(SessionState.HALTED, Action.STOP) is SessionState.STOPPED
    with pytest.raises(StateError, match="while it is paused") as err:
        transition(SessionState.PAUSED, Action.PAUSE)
    assert err.value.state == "paused"
    with pytest.raises(StateError, match="while it is stopped; it is final"):
        transition(SessionState.STOPPED, Action.RESUME)


def test_order_rules_per_state() -> None:
    assert accepts_order(SessionState.RUNNING, increases_exposure=True)
    assert not accepts_order(SessionState.PAUSED, increases_exposure=True)
    assert accepts_order(SessionState.PAUSED, increases_exposure=False)
    assert accepts_order(SessionState.HALTED, increases_exposure=False)
    assert not accepts_order(SessionState.STOPPED, increases_exposure=False)
    assert fills_resting(SessionState.RUNNING) and not fills_resting(SessionState.PAUSED)


def test_invalid_transition_lists_only_user_actions() -> None:
    with pytest.raises(StateError) as err:
        transition(SessionState.RUNNING, Action.RESUME)
    assert "allowed now: pause, stop." in str(err.value) and "halt" not in str(err.value)
    with pytest.raises(StateError) as err2:
        transition(SessionState.PAUSED, Action.PAUSE)
    assert "allowed now: resume, stop." in str(err2.value) and "halt" not in str(err2.value)
    assert user_actions(SessionState.RUNNING) == ["pause", "stop"]
    assert user_actions(SessionState.HALTED) == ["resume", "stop"]
    assert user_actions(SessionState.STOPPED) == []
