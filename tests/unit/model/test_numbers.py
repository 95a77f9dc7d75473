"""The one decimal coercer (model/numbers.py): strict and lenient forms."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymarket_realtime.model.numbers import NotANumber, opt_decimal, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.48", Decimal("0.48")), (3, Decimal(3)), (0.1, Decimal("0.1")), (Decimal("1.50"), Decimal("1.50"))],
)
def test_to_decimal_accepts_numbers_exactly(value: object, expected: Decimal) -> None:
    result = to_decimal(value)
    assert result == expected
    assert str(result) == str(expected)  # no float expansion, trailing zeros kept


@pytest.mark.parametrize("value", [None, True, False, "abc", "", [1], {"a": 1}, b"1"])
def test_to_decimal_refuses_non_numbers(value: object) -> None:
    with pytest.raises(NotANumber):
        to_decimal(value)


def test_non_finite_passes_unless_finite_is_asked() -> None:
    assert to_decimal("NaN").is_nan()
    assert to_decimal("Infinity") == Decimal("Infinity")
    for value in ("NaN", "-Infinity", float("inf")):
        with pytest.raises(NotANumber, match="finite"):
            to_decimal(value, finite=True)


@pytest.mark.parametrize("value", [None, "", "garbled", "NaN", "Infinity", True, object()])
def test_opt_decimal_means_unknown_for_absent_or_bad_values(value: object) -> None:
    assert opt_decimal(value) is None


def test_opt_decimal_parses_numbers() -> None:
    assert opt_decimal("0.01") == Decimal("0.01")
    assert opt_decimal(1234.5) == Decimal("1234.5")
    assert opt_decimal(0) == Decimal(0)
