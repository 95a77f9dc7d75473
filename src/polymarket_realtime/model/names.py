"""The name a caller most likely meant: spelling first, then names models commonly send, then similarity.

Pure and low in the package graph so both the tool layer (unknown tool arguments, :mod:`..app.strict_args`)
and the agents (unknown ``start_agent`` config keys) name the closest valid one the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

__all__ = ["SYNONYMS", "closest_argument"]

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
