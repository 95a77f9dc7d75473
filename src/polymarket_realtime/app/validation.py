"""Input validation for tool arguments: every failure says what was wrong and what to send instead."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from ..errors import InvalidInputError
from ..model.conditions import is_condition_id, looks_like_condition_id, normalize_condition_id

__all__ = [
    "MAX_WAIT_S",
    "check_depth",
    "check_limit",
    "check_market_refs",
    "check_token_id",
    "check_token_ids",
    "check_wait_s",
]

MAX_WAIT_S = 25.0
"""Long-poll cap: below the ~60 s tool-call limit of Claude clients, with margin."""
MAX_IDS = 500

_TOKEN_ID = re.compile(r"^[0-9]{1,80}$")
_MARKET_REF = re.compile(r"^([a-z0-9][a-z0-9-]{0,200}|[0-9]{1,80})$")


def check_token_id(token_id: str, *, field: str = "token_id") -> str:
    value = token_id.strip()
    if not _TOKEN_ID.match(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        hint = (
            " That looks like a condition id (a market): pass it in market_ids, or call get_market to list its "
            "outcome token ids."
            if value.startswith("0x")
            else " Call get_market or search_markets to get the outcome token ids."
        )
        raise InvalidInputError(f"{field} {shown!r} is not a token id: token ids are decimal strings of digits.{hint}")
    return value


def check_token_ids(token_ids: Iterable[str], *, field: str = "token_ids") -> list[str]:
    """Validated, de-duplicated, order-preserving token ids."""
    seen: dict[str, None] = {}
    for raw in token_ids:
        seen[check_token_id(raw, field=f"{field} entry")] = None
    if len(seen) > MAX_IDS:
        raise InvalidInputError(f"{field}: at most {MAX_IDS} token ids per subscription (got {len(seen)})")
    return list(seen)


def check_market_refs(market_ids: Iterable[str]) -> list[str]:
    """Validated, de-duplicated market refs; condition ids of either width come back in the canonical 64-hex form."""
    seen: dict[str, None] = {}
    for raw in market_ids:
        value = raw.strip()
        if is_condition_id(value) or looks_like_condition_id(value):
            value = normalize_condition_id(value, field="market_ids entry")
        elif not _MARKET_REF.match(value):
            raise InvalidInputError(
                f"market_ids entry {value[:80]!r} is not a condition id (0x + 64 hex, or 62 for a Protocol V2 "
                "market) or a market slug (lowercase words joined by '-'). Use search_markets to find one."
            )
        seen[value] = None
    if len(seen) > MAX_IDS:
        raise InvalidInputError(f"market_ids: at most {MAX_IDS} markets per subscription (got {len(seen)})")
    return list(seen)


def check_depth(depth: int, *, maximum: int = 100) -> int:
    if not 1 <= depth <= maximum:
        raise InvalidInputError(f"depth must be between 1 and {maximum} price levels per side (got {depth})")
    return depth


def check_limit(limit: int, *, maximum: int, field: str = "limit") -> int:
    if not 1 <= limit <= maximum:
        raise InvalidInputError(f"{field} must be between 1 and {maximum} (got {limit})")
    return limit


def check_wait_s(wait_s: float) -> float:
    if math.isnan(wait_s) or wait_s < 0:
        raise InvalidInputError(f"wait_s must be >= 0 seconds (got {wait_s}); use 0 for no waiting")
    # Capped rather than rejected: a model asking for 60 s gets the longest safe wait.
    return min(float(wait_s), MAX_WAIT_S)
