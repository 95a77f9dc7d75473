"""The one decimal coercer: str, int, float or Decimal in, ``Decimal`` out (money never goes through float).

Two strictnesses cover every caller:

* :func:`to_decimal` (strict): user input, stored rows and wire fields that must be numbers. Anything
  that is not a number raises :class:`NotANumber` (a ``ValueError``) so the caller can name the field
  in its own error; ``finite=True`` also refuses NaN and infinities.
* :func:`opt_decimal` (lenient): optional venue fields (Gamma, REST) where an absent, empty or garbled
  value simply means "unknown" -> ``None``.

Floats go through ``str`` (their shortest repr), so ``0.1`` becomes ``Decimal("0.1")``, not the binary
expansion. Booleans are refused: ``True`` is an ``int`` in Python but never a price. The market socket's
hot path keeps its own cached parsers (``venues/polymarket/frames.py``) for speed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["NotANumber", "opt_decimal", "to_decimal"]


class NotANumber(ValueError):
    """The value is not a (finite, when asked) decimal number."""


def to_decimal(value: object, *, finite: bool = False) -> Decimal:
    """``value`` as a Decimal; raises :class:`NotANumber` for non-numbers (and non-finite with ``finite``)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise NotANumber(f"not a number: {value!r}")
    else:
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise NotANumber(f"not a number: {value!r}") from None
    if finite and not result.is_finite():
        raise NotANumber(f"not a finite number: {value!r}")
    return result


def opt_decimal(value: object) -> Decimal | None:
    """A finite Decimal, or ``None`` when ``value`` is absent (``None``/``""``) or not a finite number."""
    if value is None or value == "":
        return None
    try:
        return to_decimal(value, finite=True)
    except NotANumber:
        return None
