"""Pure Gamma parsing: market references and Gamma market objects -> :class:`MarketInfo`.

Gamma returns ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as JSON-*encoded strings*. The outcome
ids are chosen by the market's ``version``, never by which field is present (both may be): ``"v2"``
(Protocol V2) takes ``positionIds`` (a real array, 75-digit decimal strings), ``"v1"`` takes
``clobTokenIds``. A market without a ``version`` key is read as v1 (Gamma answers from before the field
existed, and recordings of them). Any other version, an empty id field, a non-decimal id or an outcome
count that does not match gives a market with no outcome ids and an ``unsupported_reason``: it is shown,
never subscribed. Condition ids come out in the canonical 64-hex form (see :mod:`...model.conditions`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from ...errors import InvalidInputError
from ...model.conditions import condition_key, is_condition_id, looks_like_condition_id, normalize_condition_id
from ...model.events import Comment
from ...model.markets import SUPPORTED_VERSIONS, MarketInfo, Outcome, settled_winner
from ...model.numbers import opt_decimal
from ...model.timeunits import iso_to_ms

__all__ = ["SLUG", "classify_market_ref", "parse_comment", "parse_market"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Gamma's numeric ids are small; outcome ids are 75-digit (V2 position) to 78-digit (V1 token) values.
_MAX_GAMMA_ID_DIGITS = 12


def classify_market_ref(ref: str) -> str:
    """Return ``"condition_id"``, ``"token_id"``, ``"gamma_id"`` or ``"slug"``; raise on anything else."""
    ref = ref.strip()
    if is_condition_id(ref):
        return "condition_id"
    if looks_like_condition_id(ref):
        normalize_condition_id(ref)  # raises, naming both accepted widths
    if ref.isdigit():
        return "gamma_id" if len(ref) <= _MAX_GAMMA_ID_DIGITS else "token_id"
    if SLUG.match(ref):
        return "slug"
    raise InvalidInputError(
        f"{ref!r} is not a market reference: send a market slug (e.g. 'will-x-happen'), a condition id "
        "(0x followed by 64 hex characters, or 62 for a Protocol V2 market), a token id (a long decimal "
        "string) or a numeric Gamma id. Use search_markets to find one."
    )


def _json_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return []
        return decoded if isinstance(decoded, list) else []
    return []


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return default


def _fee_schedule(raw: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    """``(rate, exponent)`` from Gamma's ``feeSchedule`` (an object, sometimes JSON-encoded), else Nones."""
    schedule = raw.get("feeSchedule")
    if isinstance(schedule, str):
        try:
            schedule = json.loads(schedule)
        except ValueError:
            return None, None
    if not isinstance(schedule, Mapping):
        return None, None
    return opt_decimal(schedule.get("rate")), opt_decimal(schedule.get("exponent"))


def _fee_taker_only(raw: Mapping[str, Any]) -> bool | None:
    """Gamma's ``feeSchedule.taker_only`` (``takerOnly`` also accepted), else ``None`` (not published)."""
    schedule = raw.get("feeSchedule")
    if isinstance(schedule, str):
        try:
            schedule = json.loads(schedule)
        except ValueError:
            return None
    if not isinstance(schedule, Mapping):
        return None
    value = schedule.get("taker_only", schedule.get("takerOnly"))
    return None if value is None else _bool(value, True)


def _outcome_ids(raw: Mapping[str, Any], names: list[str]) -> tuple[str, list[str], str | None]:
    """``(version, ids, unsupported_reason)`` chosen by Gamma ``version``."""
    declared = raw.get("version")
    version = "v1" if declared is None else str(declared).strip().lower()
    if version not in SUPPORTED_VERSIONS:
        return version, [], (f"market version {declared!r} is not streamable yet: only v1 and v2 markets are supported")
    field = "positionIds" if version == "v2" else "clobTokenIds"
    ids = [str(t).strip() for t in _json_list(raw.get(field))]
    if not ids:
        return version, [], f"Gamma has not published this {version} market's outcome ids ({field} is empty) yet"
    if not all(t.isdigit() for t in ids):
        return version, [], f"Gamma's {field} for this market holds a non-decimal id; it cannot be streamed"
    if names and len(names) != len(ids):
        return version, [], f"Gamma lists {len(names)} outcomes but {len(ids)} ids in {field}; it cannot be streamed"
    return version, ids, None


def _status(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return str(value) if isinstance(value, str) and value else None


def parse_market(raw: Mapping[str, Any], *, event: Mapping[str, Any] | None = None) -> MarketInfo:
    """Build a :class:`MarketInfo` from one Gamma market object (pure; tolerant of missing fields)."""
    names = [str(n) for n in _json_list(raw.get("outcomes"))]
    prices = [opt_decimal(p) for p in _json_list(raw.get("outcomePrices"))]
    version, tokens, reason = _outcome_ids(raw, names)
    outcomes = tuple(
        Outcome(
            name=names[i] if i < len(names) else f"outcome{i}",
            token_id=token,
            price=prices[i] if i < len(prices) else None,
        )
        for i, token in enumerate(tokens)
    )
    events = raw.get("events")
    if event is None and isinstance(events, list) and events and isinstance(events[0], Mapping):
        event = events[0]
    fee_rate, fee_exponent = _fee_schedule(raw)
    market = MarketInfo(
        question=str(raw.get("question") or ""),
        slug=str(raw.get("slug") or ""),
        condition_id=condition_key(str(raw.get("conditionId") or "")),
        market_id=str(raw.get("id") or ""),
        outcomes=outcomes,
        end_date=str(raw["endDate"]) if raw.get("endDate") else None,
        volume=opt_decimal(raw.get("volumeNum", raw.get("volume"))),
        liquidity=opt_decimal(raw.get("liquidityNum", raw.get("liquidity"))),
        active=_bool(raw.get("active"), True),
        closed=_bool(raw.get("closed"), False),
        accepting_orders=_bool(raw["acceptingOrders"], False) if "acceptingOrders" in raw else None,
        tick_size=opt_decimal(raw.get("orderPriceMinTickSize")),
        min_order_size=opt_decimal(raw.get("orderMinSize")),
        neg_risk=_bool(raw.get("negRisk", (event or {}).get("negRisk")), False),
        fees_enabled=_bool(raw["feesEnabled"], False) if "feesEnabled" in raw else None,
        fee_rate=fee_rate,
        fee_exponent=fee_exponent,
        fee_taker_only=_fee_taker_only(raw),
        best_bid=opt_decimal(raw.get("bestBid")),
        best_ask=opt_decimal(raw.get("bestAsk")),
        last_trade_price=opt_decimal(raw.get("lastTradePrice")),
        event_slug=str((event or {}).get("slug") or ""),
        event_id=str((event or {}).get("id") or ""),
        version=version,
        resolution_status=_status(raw, "resolutionStatus"),
        uma_resolution_status=_status(raw, "umaResolutionStatus"),
        unsupported_reason=reason,
    )
    winner = settled_winner(market)
    if winner is None:
        return market
    return msgspec.structs.replace(market, winning_outcome=winner.name, winning_token_id=winner.token_id)


def parse_comment(event_id: str, raw: Mapping[str, Any], now_ns: int) -> Comment:
    """One ``GET /comments`` row of an event as a ``comment`` event (``createdAt`` is ISO-8601)."""
    created = raw.get("createdAt")
    return Comment(
        kind="comment_created",
        entity_type="Event",
        entity_id=event_id,
        comment_id=str(raw.get("id") or ""),
        body=str(raw.get("body") or ""),
        user_address=str(raw.get("userAddress") or ""),
        ts_event_ms=iso_to_ms(created) if isinstance(created, str) else 0,
        ts_recv_ns=now_ns,
    )
