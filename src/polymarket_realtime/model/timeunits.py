"""The one timestamp-unit rule: is a Unix timestamp in seconds or in milliseconds?

The venue mixes units (the market channel sends millisecond strings, some REST rows and the user
channel's ``match_time`` send seconds, RTDS sends millisecond numbers), so every parser decides by
magnitude with this module; see docs/polymarket-protocol.md#timestamps.

Why 1e11: below it a value read as seconds is a date before the year 5138, and read as milliseconds a
date before 1973-03-03, which no venue message carries. A lower limit such as 1e10 would also work
today but would read seconds after the year 2286 as milliseconds; 1e11 leaves both sides a wide margin.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

__all__ = ["SECONDS_LIMIT", "iso_to_ms", "parse_ts_ms"]

SECONDS_LIMIT = 100_000_000_000
"""Magnitudes below this are seconds, at or above it milliseconds (see the module docstring)."""


def parse_ts_ms(value: object) -> int:
    """Unix milliseconds from a timestamp given in seconds or milliseconds (str, int or float).

    The unit is decided by magnitude: ``abs(value) < SECONDS_LIMIT`` is seconds. ``None``, ``""``,
    booleans, non-finite and unparsable values give 0 ("no venue time").
    """
    if type(value) is str:  # hot path: the market channel's integer ms strings
        try:
            number = int(value)
        except ValueError:
            return _parse_slow(value)
        return number if number >= SECONDS_LIMIT or number <= -SECONDS_LIMIT else number * 1000
    if type(value) is int:  # RTDS: JSON numbers in ms
        return value if value >= SECONDS_LIMIT or value <= -SECONDS_LIMIT else value * 1000
    return _parse_slow(value)


def _parse_slow(value: object) -> int:
    if value is None or value == "" or isinstance(value, bool):
        return 0
    try:
        if isinstance(value, (str, int)):
            exact = Decimal(value)
        elif isinstance(value, (float, Decimal)):
            exact = Decimal(repr(value)) if isinstance(value, float) else value
        else:
            return 0
        return int(exact * 1000) if abs(exact) < SECONDS_LIMIT else int(exact)
    except (ArithmeticError, ValueError, TypeError):
        return 0


def iso_to_ms(value: str) -> int:
    """Unix milliseconds from an ISO-8601 date (``2025-02-03T20:15:30.123Z``, as Gamma and the sports
    socket send them); 0 when empty or unparsable."""
    text = value.strip()
    if not text:
        return 0
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0
