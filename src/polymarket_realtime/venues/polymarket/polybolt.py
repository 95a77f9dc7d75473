"""PolyBolt, the reference-price socket: symbol catalog, frames we send, frames we receive (sans-I/O).

Described in WEBSOCKET_INTEGRATION.md ("PolyBolt reference prices"); the venue's frames, channels, catalog
and limits are in docs/polymarket-protocol.md#polybolt. In short: JSON text frames tagged
with ``op``; ``auth`` with the CLOB L2 trio, then ``subscribe`` with ``{channel, filter}`` items; the
server answers every op with an ack (``authed``, ``subscribed``...) or an ``error`` ack, sends one
snapshot per new subscription and then data envelopes ``{v, channel, seq, ts, snapshot?, dropped?,
payload}`` with a dense per-connection, per-channel ``seq``.

Contract
--------
* Our channel names are short (``crypto``, ``equity``, ``crypto_twap``, ``equity_twap``); the wire's are
  ``price.*``. :func:`normalize_symbol` accepts the old RTDS spellings (``btcusdt``, ``btc/usd``, ``BTC``)
  and rejects anything outside the documented catalog with an :class:`InvalidInputError` listing it.
* :func:`decode` never raises: a frame that is not JSON, or not an object, is ``kind="malformed"``;
  an unknown ``op`` or channel is ``kind="unknown"`` (ignored, counted).
* Prices are ``Decimal(full_accuracy_value)``; the float ``value`` is never used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.model.events import Event, ReferencePrice
from polymarket_realtime.model.numbers import to_decimal

from .frames import ParsedFrame

__all__ = [
    "AUTH_ERRORS",
    "CHANNELS",
    "MAX_AUTH_FRAMES",
    "MAX_FRAME_BYTES",
    "MAX_SUBSCRIBE_FRAMES_PER_S",
    "MAX_SUBSCRIPTIONS",
    "PROVIDERS",
    "SYMBOLS",
    "TWAP_WINDOW_S",
    "WIRE_CHANNELS",
    "ChannelName",
    "Message",
    "RefKey",
    "auth_frame",
    "batch_subscriptions",
    "decode",
    "key_of",
    "normalize_symbol",
    "parse_polybolt_frame",
    "ping_frame",
    "subscribe_frame",
    "unsubscribe_frame",
]

ChannelName = Literal["crypto", "equity", "crypto_twap", "equity_twap"]

CHANNELS: Final[dict[str, str]] = {
    "crypto": "price.crypto",
    "equity": "price.equity",
    "crypto_twap": "price.crypto.twap",
    "equity_twap": "price.equity.twap",
}
WIRE_CHANNELS: Final[dict[str, ChannelName]] = {wire: name for name, wire in CHANNELS.items()}  # type: ignore[misc]
PROVIDERS: Final = ("chainlink", "pyth")
"""Provider pins the venue accepts, on the equity channels only."""
TWAP_WINDOW_S: Final = 60
"""The only TWAP window that carries data."""

MAX_SUBSCRIPTIONS: Final = 64
"""Active (channel, filter) pairs per socket; the 65th is refused and the socket closed (4008)."""
MAX_SUBSCRIBE_FRAMES_PER_S: Final = 20
"""Subscribe/unsubscribe frames per second per socket (a batch counts once); more closes 4008."""
MAX_FRAME_BYTES: Final = 64 * 1024
MAX_AUTH_FRAMES: Final = 8
"""Auth frames per connection; the 9th is refused and the socket closed (4008)."""

_CRYPTO = ("btcusd", "ethusd", "solusd", "dogeusd", "xrpusd", "bnbusd")
SYMBOLS: Final[dict[str, tuple[str, ...]]] = {
    "crypto": _CRYPTO,
    "crypto_twap": ("btcusd", "ethusd", "solusd", "xrpusd", "dogeusd", "hypeusd", "bnbusd", "zecusd"),
    "equity_twap": ("eurusd", "usdjpy"),
    "equity": (
        # stocks
        "aapl", "tsla", "msft", "googl", "amzn", "meta", "nvda", "nflx", "pltr", "open", "rklb", "abnb",
        "coin", "hood", "spcx", "intc", "mstr", "crcl", "mu",
        # ETFs, forex, metals, commodities (WTI, Henry Hub, copper 3-month)
        "qqq", "spy", "ewy", "vxx", "eurusd", "gbpusd", "usdcad", "usdjpy", "usdkrw", "xauusd", "xagusd",
        "cll", "hn", "cc3m",
    ),
}  # fmt: skip
"""The documented catalog per channel (the venue may add symbols; update this list with them)."""

AUTH_ERRORS: Final = frozenset({"auth_required", "auth_invalid", "auth_unavailable", "auth_expired", "auth_attempts"})

RefKey = str
"""``"<channel>:<symbol>"`` or ``"<channel>:<symbol>:<provider>"``: one venue subscription (a shard member)."""


def normalize_symbol(raw: str, channel: str) -> str:
    """The venue symbol for ``raw`` on ``channel`` (lowercase, ``usd`` quote, no slash).

    Raises:
        InvalidInputError: unknown channel, or a symbol outside the channel's documented catalog.
    """
    if channel not in CHANNELS:
        raise InvalidInputError(f"unknown reference-price channel {channel!r}; use one of {', '.join(CHANNELS)}")
    known = SYMBOLS[channel]
    text = str(raw).strip().lower().replace("/", "").replace("-", "").replace("_", "")
    candidates = [text]
    if text.endswith("usdt"):
        candidates.append(text[:-1])  # btcusdt -> btcusd (the RTDS Binance spelling)
    if channel.startswith("crypto"):
        candidates.append(text + "usd")  # btc -> btcusd
    for candidate in candidates:
        if candidate in known:
            return candidate
    raise InvalidInputError(
        f"unknown {channel} symbol {raw!r}; the documented {channel} symbols are: {', '.join(known)}"
    )


def key_of(channel: str, symbol: str, provider: str | None = None) -> RefKey:
    return f"{channel}:{symbol}:{provider}" if provider else f"{channel}:{symbol}"


def _split(key: RefKey) -> tuple[str, str, str | None]:
    parts = key.split(":")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def _item(key: RefKey) -> dict[str, Any]:
    channel, symbol, provider = _split(key)
    filt: dict[str, Any] = {"symbol": symbol}
    if channel.endswith("twap"):
        filt["window_seconds"] = TWAP_WINDOW_S
    if provider and channel.startswith("equity"):
        filt["provider"] = provider
    return {"channel": CHANNELS[channel], "filter": filt}


def _dump(frame: dict[str, Any]) -> str:
    text = json.dumps(frame, separators=(",", ":"))
    if len(text.encode()) >= MAX_FRAME_BYTES:
        raise ValueError(f"PolyBolt frame of {len(text)} bytes exceeds the 64 KB limit")
    return text


def auth_frame(rid: str, api_key: str, secret: str, passphrase: str) -> str:
    """Raw values, no signature. The result holds secrets: never log it."""
    return _dump({"op": "auth", "rid": rid, "auth": {"apiKey": api_key, "secret": secret, "passphrase": passphrase}})


def subscribe_frame(rid: str, keys: list[RefKey]) -> str:
    return _dump({"op": "subscribe", "rid": rid, "subscriptions": [_item(k) for k in keys]})


def unsubscribe_frame(rid: str, keys: list[RefKey]) -> str:
    return _dump({"op": "unsubscribe", "rid": rid, "subscriptions": [_item(k) for k in keys]})


def ping_frame(rid: str) -> str:
    return _dump({"op": "ping", "rid": rid})


def batch_subscriptions(keys: list[RefKey]) -> list[list[RefKey]]:
    """Group keys into subscribe/unsubscribe frames (each frame counts once against the rate limit).

    Unpinned keys share frames (up to :data:`MAX_SUBSCRIPTIONS` items). Acks name the channel but not the
    filter, so a provider-pinned key goes in a frame where no other key has its channel: then its
    ``subscribed`` ack (and the ``provider`` actually served) maps to it alone.
    """
    plain = [k for k in keys if _split(k)[2] is None]
    batches: list[list[RefKey]] = [plain[i : i + MAX_SUBSCRIPTIONS] for i in range(0, len(plain), MAX_SUBSCRIPTIONS)]
    pinned: list[dict[str, RefKey]] = []
    for key in keys:
        channel, _, provider = _split(key)
        if provider is None:
            continue
        for batch in pinned:
            if channel not in batch:
                batch[channel] = key
                break
        else:
            pinned.append({channel: key})
    return batches + [list(b.values()) for b in pinned]


# --- receiving ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Message:
    """One decoded server frame."""

    kind: Literal["ack", "error", "data", "unknown", "malformed"]
    op: str = ""
    code: str = ""
    rid: str = ""
    channel: ChannelName | None = None
    provider: str | None = None
    seq: int | None = None
    dropped: int = 0
    snapshot: bool = False
    events: list[Event] = field(default_factory=list)
    bad_points: int = 0


def _decimal(text: object) -> Decimal:
    if not isinstance(text, str):
        raise ValueError("full_accuracy_value must be a string")
    return to_decimal(text, finite=True)


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _points(channel: ChannelName, payload: dict[str, Any], snapshot: bool, ts: int, out: Message) -> None:
    symbol = str(payload.get("symbol", "")).lower()
    source = str(payload.get("source", ""))
    window = payload.get("window_seconds")
    window_s = window if isinstance(window, int) else None
    # Snapshot points carry no symbol and no source: both are on the batch.
    points = payload.get("data") if snapshot else [payload]
    if not isinstance(points, list):
        out.bad_points += 1
        return
    for point in points:
        try:
            if not isinstance(point, dict):
                raise ValueError("point is not an object")
            out.events.append(
                ReferencePrice(
                    symbol=symbol,
                    channel=channel,
                    value=_decimal(point.get("full_accuracy_value")),
                    source=source,
                    snapshot=snapshot,
                    window_seconds=window_s,
                    is_carried_forward=point.get("is_carried_forward") is True,
                    ts_event_ms=_int(point.get("timestamp")),
                    ts_recv_ns=ts,
                )
            )
        except (ValueError, InvalidOperation, ArithmeticError):
            out.bad_points += 1


def decode(data: str | bytes, ts_recv_ns: int) -> Message:
    """Decode one server frame (never raises)."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return Message("malformed")
    if not isinstance(obj, dict):
        return Message("malformed")
    op = obj.get("op")
    rid = str(obj.get("rid") or "")
    if isinstance(op, str):
        wire = obj.get("channel")
        channel = WIRE_CHANNELS.get(wire) if isinstance(wire, str) else None
        provider = obj.get("provider")
        if op == "error":
            return Message("error", op=op, code=str(obj.get("code", "")), rid=rid, channel=channel)
        if op in ("authed", "subscribed", "unsubscribed", "pong", "challenge"):
            return Message(
                "ack", op=op, rid=rid, channel=channel, provider=provider if isinstance(provider, str) else None
            )
        return Message("unknown", op=op)
    wire = obj.get("channel")
    channel = WIRE_CHANNELS.get(wire) if isinstance(wire, str) else None
    payload = obj.get("payload")
    seq = obj.get("seq")
    if channel is None:
        return Message("unknown", op=str(wire))
    if not isinstance(payload, dict) or not isinstance(seq, int):
        return Message("malformed", channel=channel)
    snapshot = obj.get("snapshot") is True
    msg = Message("data", channel=channel, seq=seq, dropped=max(0, _int(obj.get("dropped"))), snapshot=snapshot)
    _points(channel, payload, snapshot, ts_recv_ns, msg)
    return msg


def parse_polybolt_frame(data: str | bytes, ts_recv_ns: int) -> ParsedFrame:
    """The events of one frame in the shape of the other parsers (recordings, replay, backtests)."""
    msg = decode(data, ts_recv_ns)
    if msg.kind == "malformed":
        return ParsedFrame([], None, 1)
    if msg.kind == "unknown":
        return ParsedFrame([], None, 0, 1, (msg.op or "(unknown)",))
    if msg.kind != "data":
        return ParsedFrame([], "pong" if msg.op == "pong" else "other")
    return ParsedFrame(msg.events, None, msg.bad_points)
