"""Client frames for the Polymarket sockets (docs/polymarket-protocol.md#market-subscribe, #market-dynamic-ops,
#user-subscribe, #rtds-frames) and id validation.

Contract
--------
* Every builder returns the compact JSON text to send, with the venue's exact spellings
  (``assets_ids``, ``custom_feature_enabled``, ``apiKey``) and keys in the documented order.
* ``level`` is never sent on the market channel: its semantics are undocumented.
* ``user_initial_frame`` is the only place a credential enters a frame. It takes plain strings, so the
  caller reveals its :class:`~polymarket_realtime.secrets.Secret` values right here and nowhere else;
  the returned text must never be logged.
* Keepalive: the CLOB channels and RTDS both take the text frame ``PING``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import InvalidInputError
from ...model.conditions import is_condition_id as _is_condition_id

__all__ = [
    "PING",
    "RTDS_PING",
    "RtdsSubscription",
    "is_condition_id",
    "is_token_id",
    "market_initial_frame",
    "market_subscribe_frame",
    "market_unsubscribe_frame",
    "require_token_ids",
    "rtds_subscribe_frame",
    "rtds_unsubscribe_frame",
    "user_initial_frame",
    "user_subscribe_frame",
    "user_unsubscribe_frame",
]

PING = "PING"
"""CLOB market/user keepalive text frame (every 10 s; the venue answers ``PONG``)."""
RTDS_PING = "PING"
"""RTDS keepalive text frame (every 5 s per the docs)."""

RtdsSubscription = tuple[str, str] | tuple[str, str, str]
"""(topic, type) or (topic, type, filters) where filters is the venue's filter *string*."""

_TOKEN_ID = re.compile(r"[0-9]{1,100}")


def is_token_id(value: str) -> bool:
    """A CLOB token id: a decimal string of 1-100 digits, no sign or spaces."""
    return _TOKEN_ID.fullmatch(value) is not None


def require_token_ids(asset_ids: Iterable[str]) -> list[str]:
    """De-duplicated token ids in order; :class:`InvalidInputError` naming the first that is not one."""
    ids = list(dict.fromkeys(asset_ids))
    for token in ids:
        if not is_token_id(token):
            raise InvalidInputError(
                f"{token!r} is not a token id: send the CLOB token id, a decimal string of up to 78 digits "
                "(get_market lists each outcome's token_id)."
            )
    return ids


def is_condition_id(value: str) -> bool:
    """A market condition id: ``0x`` + 64 hex digits, or 62 for a Protocol V2 id as Gamma shows it.

    Normalize with :func:`~polymarket_realtime.model.conditions.normalize_condition_id` before any join.
    """
    return _is_condition_id(value)


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


# --- market channel -------------------------------------------------------------------------


def market_initial_frame(asset_ids: Iterable[str], *, custom_features: bool = True, initial_dump: bool = True) -> str:
    """First frame on ``/ws/market``:
    ``{"type":"market","assets_ids":[...],"initial_dump":true,"custom_feature_enabled":true}``."""
    return _dump(
        {
            "type": "market",
            "assets_ids": list(asset_ids),
            "initial_dump": initial_dump,
            "custom_feature_enabled": custom_features,
        }
    )


def market_subscribe_frame(asset_ids: Iterable[str], *, custom_features: bool = True) -> str:
    """Add tokens to an open market connection (no ``type`` field in update frames)."""
    return _dump({"operation": "subscribe", "assets_ids": list(asset_ids), "custom_feature_enabled": custom_features})


def market_unsubscribe_frame(asset_ids: Iterable[str]) -> str:
    return _dump({"operation": "unsubscribe", "assets_ids": list(asset_ids)})


# --- user channel ---------------------------------------------------------------------------


def user_initial_frame(api_key: str, secret: str, passphrase: str, markets: Iterable[str]) -> str:
    """First frame on ``/ws/user``: the raw L2 credential trio (no HMAC) and condition ids.

    An empty ``markets`` list means every market of the account. The result holds secrets: send it,
    never log it.
    """
    return _dump(
        {
            "type": "user",
            "auth": {"apiKey": api_key, "secret": secret, "passphrase": passphrase},
            "markets": list(markets),
        }
    )


def user_subscribe_frame(markets: Iterable[str]) -> str:
    return _dump({"operation": "subscribe", "markets": list(markets)})


def user_unsubscribe_frame(markets: Iterable[str]) -> str:
    return _dump({"operation": "unsubscribe", "markets": list(markets)})


# --- RTDS -----------------------------------------------------------------------------------


def _rtds_frame(action: str, subs: Sequence[RtdsSubscription]) -> str:
    subscriptions: list[dict[str, str]] = []
    for sub in subs:
        entry = {"topic": sub[0], "type": sub[1]}
        if len(sub) == 3 and sub[2]:
            entry["filters"] = sub[2]
        subscriptions.append(entry)
    return _dump({"action": action, "subscriptions": subscriptions})


def rtds_subscribe_frame(subs: Sequence[RtdsSubscription]) -> str:
    """``{"action":"subscribe","subscriptions":[{"topic":..,"type":..[,"filters":..]}]}``.

    Filters are unreliable at the venue (docs/polymarket-protocol.md#rtds-frames): prefer none and filter locally.
    """
    return _rtds_frame("subscribe", subs)


def rtds_unsubscribe_frame(subs: Sequence[RtdsSubscription]) -> str:
    return _rtds_frame("unsubscribe", subs)
