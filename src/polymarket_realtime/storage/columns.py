"""Column conversions shared by the storage modules: Decimals are stored as TEXT.

Reading goes through the one decimal coercer (:func:`polymarket_realtime.model.numbers.to_decimal`): a
column that does not hold a number is a corrupt row and raises rather than becoming ``None``.
"""

from __future__ import annotations

from decimal import Decimal

from ..model.numbers import to_decimal

__all__ = ["to_decimal", "to_optional_decimal"]


def to_optional_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)
