"""RTDS frames (docs/polymarket-protocol.md#rtds-frames) -> crypto/equity price and comment events.

Contract
--------
* Same result shape and guarantees as the CLOB parsers (see :mod:`.parsing`); an unknown ``topic`` is
  skipped and counted (reported by name).
* Payload numbers become exact Decimals from their JSON text (``189.55`` -> ``Decimal("189.55")``),
  never through a binary float. Equity prices prefer ``full_accuracy_value``. A snapshot payload
  ``{symbol, data: [...]}`` gives one event per point.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from polymarket_realtime.model.events import Comment, CryptoPrice, EquityPrice, Event

from ...model.timeunits import parse_ts_ms
from . import schemas as w
from .frames import CONVERT_ERRORS, BadValue, ParsedFrame, control_frame, split_raw

__all__ = ["parse_rtds_frame"]

_RTDS_DECODER = msgspec.json.Decoder(w.WireRtdsMessage | list[w.WireRtdsMessage])
_RTDS_ELEMENT = msgspec.json.Decoder(w.WireRtdsMessage)


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise BadValue("non-finite price")
    return value


def _rtds_prices(m: w.WireRtdsMessage, payload: w.WirePricePayload, ts: int, out: list[Event]) -> None:
    envelope_ms = parse_ts_ms(m.timestamp)
    points: list[tuple[int, Decimal]] = []
    if payload.data is not None:  # snapshot of recent points, one event each
        points.extend(
            (parse_ts_ms(point.timestamp) or envelope_ms, _finite(point.value))
            for point in payload.data
            if point.value is not None
        )
    else:
        value = payload.value
        if m.topic == "equity_prices" and payload.full_accuracy_value is not None:
            value = payload.full_accuracy_value  # the docs say to prefer it for equities
        if value is None:
            raise BadValue("price without value")
        points.append((parse_ts_ms(payload.timestamp) or envelope_ms, _finite(value)))
    for ts_ms, value in points:
        if m.topic == "equity_prices":
            out.append(EquityPrice(symbol=payload.symbol, value=value, ts_event_ms=ts_ms, ts_recv_ns=ts))
        else:
            source: Literal["binance", "chainlink"] = "chainlink" if m.topic == "crypto_prices_chainlink" else "binance"
            out.append(CryptoPrice(symbol=payload.symbol, value=value, source=source, ts_event_ms=ts_ms, ts_recv_ns=ts))


def _rtds_comment(m: w.WireRtdsMessage, p: w.WireCommentPayload, ts: int, out: list[Event]) -> None:
    # A reaction's own id is the reaction's; the comment it belongs to is commentID.
    if m.type.startswith("reaction"):
        comment_id = p.comment_id if p.comment_id is not None else p.id
    else:
        comment_id = p.id if p.id is not None else p.comment_id
    out.append(
        Comment(
            kind=m.type,
            entity_type=p.parent_entity_type or "",
            entity_id="" if p.parent_entity_id is None else str(p.parent_entity_id),
            comment_id="" if comment_id is None else str(comment_id),
            body=p.body or "",
            user_address=p.user_address or "",
            reaction_type=p.reaction_type or "",
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _rtds(m: w.WireRtdsMessage, ts: int, out: list[Event]) -> bool:
    """Append the events of one RTDS message; False if its topic is not one we handle."""
    if m.topic in w.RTDS_PRICE_TOPICS:
        if not m.payload:
            raise BadValue("price message without payload")
        _rtds_prices(m, w.PRICE_PAYLOAD_DECODER.decode(m.payload), ts, out)
        return True
    if m.topic == "comments":
        if not m.payload:
            raise BadValue("comment message without payload")
        _rtds_comment(m, w.COMMENT_PAYLOAD_DECODER.decode(m.payload), ts, out)
        return True
    return False


def parse_rtds_frame(data: str | bytes, ts_recv_ns: int) -> ParsedFrame:
    """Parse one RTDS frame (docs/polymarket-protocol.md#rtds-frames): crypto/equity prices and comments.

    Numbers in payloads become exact Decimals from their JSON text (``189.55`` -> ``Decimal("189.55")``).
    """
    control = control_frame(data)
    if control is not None:
        return control
    malformed = 0
    messages: list[w.WireRtdsMessage]
    try:
        decoded = _RTDS_DECODER.decode(data)
        messages = decoded if isinstance(decoded, list) else [decoded]
    except msgspec.DecodeError:
        raws = split_raw(data)
        if raws is None:
            return ParsedFrame([], None, 1)
        messages = []
        for raw in raws:
            try:
                messages.append(_RTDS_ELEMENT.decode(raw))
            except msgspec.DecodeError:
                malformed += 1
    if not messages and not malformed:
        return ParsedFrame([], "empty")
    events: list[Event] = []
    unknown_types: list[str] = []
    for msg in messages:
        try:
            if not _rtds(msg, ts_recv_ns, events):
                unknown_types.append(msg.topic or "(no topic)")
        except (*CONVERT_ERRORS, msgspec.DecodeError):
            malformed += 1
    return ParsedFrame(events, None, malformed, len(unknown_types), tuple(unknown_types))
