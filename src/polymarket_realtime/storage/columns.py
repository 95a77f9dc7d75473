"""Column conversions shared by the storage modules: Decimals are stored as TEXT."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["to_decimal", "to_optional_decimal"]


def to_decimal(value: object) -> Decimal:
    return Decimal(str(value))


def to_optional_decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))
