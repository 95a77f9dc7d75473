"""The one seconds-or-milliseconds rule (model/timeunits.py), shared by every parser and REST reader."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymarket_realtime.model.timeunits import SECONDS_LIMIT, parse_ts_ms


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("1757908892351", 1757908892351),
        ("1672290687", 1672290687000),
        (1753314064237, 1753314064237),
        (1672290687, 1672290687000),
        (1672290687.5, 1672290687500),
        ("1672290687.25", 1672290687250),
        (Decimal("1672290687.5"), 1672290687500),
        (None, 0),
        ("", 0),
        ("soon", 0),
        (float("nan"), 0),
        (float("inf"), 0),
        (True, 0),
        ({"t": 1}, 0),
    ],
)
def test_parse_ts_ms_by_magnitude(value: object, ms: int) -> None:
    assert parse_ts_ms(value) == ms


def test_the_limit_is_the_first_millisecond_value() -> None:
    # Just below the limit: seconds (year 5138); at it: milliseconds (1973-03-03).
    assert parse_ts_ms(SECONDS_LIMIT - 1) == (SECONDS_LIMIT - 1) * 1000
    assert parse_ts_ms(str(SECONDS_LIMIT - 1)) == (SECONDS_LIMIT - 1) * 1000
    assert parse_ts_ms(SECONDS_LIMIT) == SECONDS_LIMIT
    assert parse_ts_ms(str(SECONDS_LIMIT)) == SECONDS_LIMIT
    assert parse_ts_ms(float(SECONDS_LIMIT)) == SECONDS_LIMIT


def test_values_the_old_1e10_rest_rule_read_differently_follow_the_one_rule() -> None:
    # rest._ts_ms used to call 2e10 milliseconds (1970); the one rule reads it as seconds (year 2603).
    assert parse_ts_ms("20000000000") == 20_000_000_000_000
    assert parse_ts_ms(-1672290687) == -1672290687000
    assert parse_ts_ms(0) == 0
