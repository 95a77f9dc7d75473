"""Market condition ids: the one place where their two widths are reconciled.

Protocol V2 markets have 31-byte condition ids, which Gamma shows as ``0x`` + 62 hex digits, while the
CLOB, the sockets and the Data API carry the same value right-padded with one zero byte to ``0x`` + 64
hex. Protocol V1 (CTF) markets have 32-byte ids everywhere. Everything inside this server keys markets
by the **canonical form**: lowercase, 64 hex digits (the CLOB/WS form), so a Gamma id, a socket
``market`` field and a user-supplied id of either width join. Narrowing back to 62 hex (only for Gamma
queries) checks the padding byte is zero. See WEBSOCKET_INTEGRATION.md, "Protocol V2 identifiers".
"""

from __future__ import annotations

import re

from ..errors import InvalidInputError

__all__ = [
    "condition_key",
    "gamma_condition_forms",
    "is_condition_id",
    "looks_like_condition_id",
    "narrow_condition_id",
    "normalize_condition_id",
]

_CONDITION = re.compile(r"0x(?:[0-9a-fA-F]{62}|[0-9a-fA-F]{64})")
_CONDITION_LIKE = re.compile(r"0[xX][0-9a-zA-Z]{40,}")


def is_condition_id(value: str) -> bool:
    """``0x`` + 62 (Protocol V2, Gamma form) or 64 (CLOB/WS form) hex digits, any case."""
    return _CONDITION.fullmatch(value) is not None


def looks_like_condition_id(value: str) -> bool:
    """``0x`` and 40 or more letters/digits: meant as a condition id (no slug looks like this), valid or not.

    Lets a malformed id of either width get the condition-id error instead of "no market with that slug".
    """
    return _CONDITION_LIKE.fullmatch(value.strip()) is not None


def normalize_condition_id(value: str, *, field: str = "condition id") -> str:
    """The canonical form (lowercase, ``0x`` + 64 hex): a 62-hex V2 id is right-padded with ``00``.

    Raises :class:`InvalidInputError` naming ``field`` for anything that is not a condition id.
    """
    raw = value.strip()
    if not is_condition_id(raw):
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        raise InvalidInputError(
            f"{field} {shown!r} is not a condition id: send 0x followed by 64 hex characters, or 62 for a "
            "Protocol V2 market as Gamma shows it. Use search_markets or get_market to find one."
        )
    raw = raw.lower()
    return raw + "00" if len(raw) == 64 else raw


def condition_key(value: str) -> str:
    """Lenient canonical form for joins: like :func:`normalize_condition_id`, but returns anything else as is.

    Used where a value comes from the venue (a frame, a Gamma answer) and must never raise.
    """
    if is_condition_id(value):
        value = value.lower()
        return value + "00" if len(value) == 64 else value
    return value


def narrow_condition_id(value: str) -> str:
    """The 62-hex (31-byte) Gamma form of a padded V2 id; raises if the padding byte is not zero."""
    canonical = normalize_condition_id(value)
    if not canonical.endswith("00"):
        raise InvalidInputError(
            f"condition id {value!r} cannot be a padded Protocol V2 id: its last byte is not zero, so it is a "
            "32-byte (V1) condition id and has no 62-hex form."
        )
    return canonical[:-2]


def gamma_condition_forms(value: str) -> list[str]:
    """Every form Gamma may list this market under: the 64-hex id, plus its 62-hex V2 form when the last byte is zero.

    A 64-hex id ending in ``00`` may be a V1 id that happens to end in a zero byte or a padded V2 id; asking
    for both and matching the answer by canonical form resolves it without guessing.
    """
    canonical = normalize_condition_id(value)
    return [canonical, canonical[:-2]] if canonical.endswith("00") else [canonical]
