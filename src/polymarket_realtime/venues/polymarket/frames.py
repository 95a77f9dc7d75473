"""Shared pieces of the three frame parsers: the result type, control frames, values.

Package-internal except :class:`ParsedFrame` (re-exported by :mod:`.parsing`). Timestamps follow
:func:`polymarket_realtime.model.timeunits.parse_ts_ms`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal

import msgspec

from polymarket_realtime.model.events import Event, Side

from . import schemas as w

__all__ = [
    "CONVERT_ERRORS",
    "PROBE",
    "BadValue",
    "Control",
    "ParsedFrame",
    "check_level",
    "control_frame",
    "opt_dec",
    "parse_side",
    "price_of",
    "split_raw",
]

Control = Literal["pong", "ping", "invalid_operation", "empty", "other"]


class ParsedFrame(msgspec.Struct, frozen=True, gc=False):
    """What one frame became. ``events`` share the frame's ``ts_recv_ns``."""

    events: list[Event]
    control: Control | None = None
    malformed: int = 0
    unknown: int = 0
    unknown_types: tuple[str, ...] = ()


class BadValue(ValueError):
    """A message decoded but carries a value we refuse (NaN, negative size, unknown side...)."""


CONVERT_ERRORS = (ArithmeticError, ValueError, TypeError)
_ZERO = Decimal(0)
_INF = Decimal("Infinity")
_DECIMALS: dict[str, Decimal] = {}
_DECIMALS_MAX = 4096


def opt_dec(value: str | None) -> Decimal | None:
    """Optional decimal string; ``""`` (the venue's "no level") -> None. Non-finite values raise.

    Top-of-book strings repeat constantly ("0.48"), so parsed values are cached (Decimals are
    immutable); the cache is bounded and simply cleared when full.
    """
    if not value:
        return None
    try:
        return _DECIMALS[value]
    except KeyError:
        pass
    result = Decimal(value)
    if not result.is_finite():
        raise BadValue(value)
    if len(_DECIMALS) >= _DECIMALS_MAX:
        _DECIMALS.clear()
    _DECIMALS[value] = result
    return result


_PRICES: dict[str, Decimal] = {}
_MAX_PRICES = 65_536


def price_of(text: str) -> Decimal:
    """The Decimal for a wire price, shared by every level quoting the same text.

    Keyed by the exact text, so "0.5" and "0.50" stay distinct (prices print as the venue sent them).
    Bounded: past ``_MAX_PRICES`` distinct texts new ones are built but not cached.
    """
    price = _PRICES.get(text)
    if price is None:
        try:
            price = Decimal(text)
        except (InvalidOperation, ValueError):
            raise BadValue("price is not a decimal number") from None
        if len(_PRICES) < _MAX_PRICES:
            _PRICES[text] = price
    return price


def check_level(price: Decimal, size: Decimal) -> None:
    """Refuse negative or infinite values; a NaN raises ``InvalidOperation`` in the comparison itself."""
    if not (_ZERO <= price < _INF and _ZERO <= size < _INF):
        raise BadValue("negative or infinite level")


def parse_side(value: str | None) -> Side | None:
    if value is None:
        return None
    upper = value.upper()
    if upper == "BUY":
        return "BUY"
    if upper == "SELL":
        return "SELL"
    return None


# --- control frames -------------------------------------------------------------------------


def control_frame(data: str | bytes) -> ParsedFrame | None:
    """The result for a non-JSON frame, or None when the frame looks like JSON."""
    if isinstance(data, str):
        if data[:1] in ("{", "["):
            return None
        text = data.strip()
    else:
        if data[:1] in (b"{", b"["):
            return None
        text = data.decode("utf-8", "replace").strip()
    if not text:
        return ParsedFrame([], "empty")
    if text[0] in "{[":
        return None
    upper = text.upper()
    if upper == "PONG":
        return ParsedFrame([], "pong")
    if upper == "INVALID OPERATION":
        return ParsedFrame([], "invalid_operation")
    return ParsedFrame([], "other")


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
PROBE = msgspec.json.Decoder(w.WireProbe)


def _is_array(data: str | bytes) -> bool:
    stripped = data.lstrip()
    return stripped[:1] in ("[", b"[")


def split_raw(data: str | bytes) -> list[msgspec.Raw] | None:
    """Elements of a frame whose typed decode failed; None if the frame is not even JSON."""
    if _is_array(data):
        try:
            return _RAW_LIST.decode(data)
        except msgspec.DecodeError:
            return None
    return [msgspec.Raw(data)]
