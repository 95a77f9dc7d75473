"""Venue-format JSON, built directly from docs/polymarket-protocol.md (independent of the client's parsers).

Prices are held as integers in units of 1/10,000 and sizes in units of 1/100 share; this module turns
them into the venue's decimal strings ("0.5", "0.01", "37677.02"). :class:`OutFrame` is one serialized
frame plus the routing keys the server needs to decide who receives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

__all__ = [
    "PRICE_ONE",
    "Audience",
    "Channel",
    "OutFrame",
    "book_event",
    "dumps",
    "fmt_price",
    "fmt_size",
    "parse_price",
    "rest_book",
]

PRICE_ONE = 10_000
"""Price units per 1.0 (so tick 0.01 = 100 units, 0.001 = 10, 0.0025 = 25)."""

Channel = Literal["market", "user", "rtds", "polybolt", "sports"]
Audience = Literal["assets", "assets_custom", "market_custom", "all_custom", "all"]
"""Who receives a frame: subscribers of ``asset_ids`` (``assets``), only those with custom features on
(``assets_custom``), custom-feature connections subscribed to the market or to nothing
(``market_custom``), every custom-feature connection (``all_custom``), or every connection (``all``)."""

_encoder = msgspec.json.Encoder()


def dumps(obj: Any) -> str:
    """Compact JSON text, as the venue sends it."""
    return _encoder.encode(obj).decode()


def _fmt_price(units: int) -> str:
    whole, frac = divmod(units, PRICE_ONE)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:04d}".rstrip("0")


# Every price from 0 to 1 is pre-formatted: formatting is the model's hot path at high rates.
_PRICE_TEXT = [_fmt_price(units) for units in range(PRICE_ONE + 1)]


def fmt_price(units: int) -> str:
    """Units of 1/10,000 -> shortest decimal string (``5000`` -> ``"0.5"``, ``10000`` -> ``"1"``)."""
    if 0 <= units <= PRICE_ONE:
        return _PRICE_TEXT[units]
    return _fmt_price(units)


def fmt_size(cents: int) -> str:
    """Units of 1/100 share -> decimal string (``11268900`` -> ``"112689"``, ``3767702`` -> ``"37677.02"``)."""
    whole, frac = divmod(cents, 100)
    if frac == 0:
        return str(whole)
    if frac % 10 == 0:
        return f"{whole}.{frac // 10}"
    return f"{whole}.{frac:02d}"


def parse_price(text: str) -> int:
    """Decimal string -> price units; raises ValueError for anything else or more than 4 decimals."""
    whole, _, frac = text.strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 4:
        raise ValueError(f"bad price {text!r}")
    return int(whole) * PRICE_ONE + int((frac or "0").ljust(4, "0"))


def fmt_tick(units: int) -> str:
    return fmt_price(units)


@dataclass(slots=True)
class OutFrame:
    """One frame to send, serialized once, with routing keys. Treat as immutable (not frozen: speed)."""

    channel: Channel
    text: str
    asset_ids: tuple[str, ...] = ()
    market: str = ""
    audience: Audience = "assets"
    topic: str = ""
    """RTDS topic (routing key on the RTDS socket)."""
    owner: str = ""
    """User channel: the API key the event belongs to ("" = every authenticated connection)."""
    event_type: str = ""


def _levels(levels: Iterable[tuple[int, int]]) -> list[dict[str, str]]:
    return [{"price": fmt_price(p), "size": fmt_size(s)} for p, s in levels]


def book_hash(body: Mapping[str, Any]) -> str:
    """SHA-1 of compact JSON with ``hash`` blanked, the scheme py-clob-client documents for REST books."""
    blank = dict(body)
    blank["hash"] = ""
    return hashlib.sha1(dumps(blank).encode(), usedforsecurity=False).hexdigest()


def rest_book(
    *,
    market: str,
    asset_id: str,
    bids_ascending: list[tuple[int, int]],
    asks_descending: list[tuple[int, int]],
    timestamp_ms: int,
    tick: int,
    min_order_size: int,
    neg_risk: bool,
    last_trade: int | None,
    version: str | None = None,
) -> dict[str, Any]:
    """``GET /book`` body: field order of docs/polymarket-protocol.md#clob-rest, levels in the venue's order (best
    last, docs/polymarket-protocol.md#book-ordering).

    ``version`` adds the undocumented ``"version": "v2"`` key Protocol V2 books carry.
    """
    body: dict[str, Any] = {
        "market": market,
        "asset_id": asset_id,
        "timestamp": str(timestamp_ms),
        "hash": "",
        "bids": _levels(bids_ascending),
        "asks": _levels(asks_descending),
        "min_order_size": str(min_order_size),
        "tick_size": fmt_tick(tick),
        "neg_risk": neg_risk,
        "last_trade_price": "" if last_trade is None else fmt_price(last_trade),
    }
    body["hash"] = book_hash(body)
    if version is not None:
        body["version"] = version
    return body


def book_event(
    *,
    market: str,
    asset_id: str,
    bids_ascending: list[tuple[int, int]],
    asks_descending: list[tuple[int, int]],
    timestamp_ms: int,
    tick: int,
    last_trade: int | None,
    version: str | None = None,
) -> dict[str, Any]:
    """A market-channel ``book`` event (bids ascending, asks descending: the best level is last).

    ``version`` adds the undocumented ``"version": "v2"`` key Protocol V2 books carry.
    """
    body: dict[str, Any] = {
        "event_type": "book",
        "asset_id": asset_id,
        "market": market,
        "bids": _levels(bids_ascending),
        "asks": _levels(asks_descending),
        "timestamp": str(timestamp_ms),
        "hash": "",
        "tick_size": fmt_tick(tick),
        "last_trade_price": "" if last_trade is None else fmt_price(last_trade),
    }
    # WS book hashes cannot be recomputed by clients anyway [docs/polymarket-protocol.md#book-hash]; a cheap
    # digest of the top of book and time keeps equal snapshots equal without hashing every level at high rates.
    top = f"{asset_id}|{timestamp_ms}|{bids_ascending[-1:]}|{asks_descending[-1:]}|{len(bids_ascending)}"
    body["hash"] = hashlib.sha1(top.encode(), usedforsecurity=False).hexdigest()
    if version is not None:
        body["version"] = version
    return body


_MARKET_AUDIENCE: dict[str, Audience] = {
    "best_bid_ask": "assets_custom",
    "new_market": "all_custom",
    "market_resolved": "market_custom",
}


def frames_from_venue_text(channel: Channel, text: str) -> list[OutFrame]:
    """Routing keys for a recorded venue frame (for replay sources): one :class:`OutFrame` per event.

    Market frames may be an object or an array (each element becomes its own frame); routing comes from
    ``asset_id`` / ``price_changes[].asset_id`` / ``assets_ids`` and the event type. RTDS frames route on
    ``topic``/``type``; user frames on ``market`` (to every authenticated connection). Non-JSON text
    (``PONG``, ``INVALID OPERATION``) and unparseable frames yield an empty list.
    """
    try:
        decoded = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    out: list[OutFrame] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw = text if len(items) == 1 and not isinstance(decoded, list) else dumps(item)
        if channel == "rtds":
            out.append(
                OutFrame(
                    channel="rtds", text=raw, topic=str(item.get("topic", "")), event_type=str(item.get("type", ""))
                )
            )
            continue
        event_type = str(item.get("event_type", ""))
        market = str(item.get("market", ""))
        if channel == "user":
            out.append(OutFrame(channel="user", text=raw, market=market, event_type=event_type))
            continue
        assets: list[str] = []
        if isinstance(item.get("asset_id"), str):
            assets.append(item["asset_id"])
        for key in ("price_changes", "changes"):
            changes = item.get(key) or []
            assets.extend(c["asset_id"] for c in changes if isinstance(c, dict) and isinstance(c.get("asset_id"), str))
        assets.extend(a for a in item.get("assets_ids") or [] if isinstance(a, str))
        audience = _MARKET_AUDIENCE.get(event_type, "assets")
        out.append(
            OutFrame(
                channel="market",
                text=raw,
                asset_ids=tuple(dict.fromkeys(assets)),
                market=market,
                audience=audience,
                event_type=event_type,
            )
        )
    return out
