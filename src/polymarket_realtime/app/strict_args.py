"""Unknown tool arguments are refused, naming the closest valid one.

Pydantic ignores extra keys, so ``get_order_book(token_id=..., levels=5)`` used to return the default
depth and the model believed it got five levels. :func:`check_arguments` runs before a tool does
anything (so state is unchanged on error) and is generic: it reads the argument names from the tool's
input schema, so every tool gets it, including ones added later. The future JSON API can call it too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidInputError

__all__ = ["SYNONYMS", "check_arguments", "closest_argument"]

SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "levels": ("depth",),
    "level": ("depth",),
    "n": ("limit", "depth"),
    "count": ("limit",),
    "max": ("limit",),
    "max_results": ("limit",),
    "size": ("limit", "depth"),
    "top": ("limit", "depth"),
    "q": ("query",),
    "search": ("query",),
    "text": ("query",),
    "keyword": ("query",),
    "token": ("token_id", "token_ids"),
    "asset": ("token_id", "token_ids"),
    "asset_id": ("token_id", "token_ids"),
    "asset_ids": ("token_ids", "token_id"),
    "tokens": ("token_ids", "token_id"),
    "market_id": ("market", "market_ids"),
    "condition_id": ("market", "market_ids"),
    "slug": ("market", "market_ids"),
    "markets": ("market_ids", "market"),
    "cursor": ("after_seq",),
    "since": ("after_seq",),
    "offset": ("after_seq",),
    "seq": ("after_seq",),
    "timeout": ("wait_s",),
    "wait": ("wait_s",),
    "wait_seconds": ("wait_s",),
    "timeout_s": ("wait_s",),
    "id": ("subscription_id", "session_id", "agent_id", "order_id", "recording_id"),
    "sub_id": ("subscription_id",),
    "subscription": ("subscription_id",),
    "session": ("session_id",),
    "amount": ("size",),
    "quantity": ("size",),
    "qty": ("size",),
    "shares": ("size",),
    "limit_price": ("price",),
    "cash": ("starting_cash",),
    "balance": ("starting_cash",),
}
"""Names models commonly send for our arguments, mapped to what they meant (first valid one wins)."""


def _normal(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def closest_argument(name: str, valid: Iterable[str]) -> str | None:
    """The valid argument ``name`` most likely meant: spelling first, then known synonyms, then similarity."""
    names = list(valid)
    if not names:
        return None
    by_normal = {_normal(v): v for v in names}
    if (exact := by_normal.get(_normal(name))) is not None:
        return exact  # tokenids, tokenIds, token-ids -> token_ids
    for meant in SYNONYMS.get(name.lower(), ()):
        if meant in names:
            return meant
    close = difflib.get_close_matches(_normal(name), list(by_normal), n=1, cutoff=0.6)
    if close:
        return by_normal[close[0]]
    return max(names, key=lambda v: difflib.SequenceMatcher(None, _normal(name), _normal(v)).ratio())


def check_arguments(tool: str, arguments: Mapping[str, Any], input_schema: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidInputError` if ``arguments`` has a name ``input_schema`` does not define."""
    properties = input_schema.get("properties") or {}
    unknown = [name for name in arguments if name not in properties]
    if not unknown:
        return
    valid = list(properties)
    if not valid:
        raise InvalidInputError(
            f"{tool} takes no arguments; remove {', '.join(repr(u) for u in unknown)} and call it with {{}}."
        )
    unused = [v for v in valid if v not in arguments] or valid
    listed = f"Valid arguments: {', '.join(valid)}."
    if len(unknown) == 1:
        raise InvalidInputError(
            f"unknown argument {unknown[0]!r}; did you mean {closest_argument(unknown[0], unused)!r}? {listed}"
        )
    parts = [f"{name!r} (did you mean {closest_argument(name, unused)!r}?)" for name in unknown]
    raise InvalidInputError(f"unknown arguments {', '.join(parts)}. {listed}")
