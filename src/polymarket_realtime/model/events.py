"""Normalized events: what every wire frame becomes, once, at the edge.

Contract
--------
* Every event is a frozen ``msgspec.Struct`` tagged by ``type`` (``event.type`` is the tag string), so
  ``encode_event``/``decode_event`` round-trip any event exactly (recordings, Redis streams).
* Prices and sizes are :class:`~decimal.Decimal`, parsed from the venue's strings. Never floats.
* ``ts_event_ms`` is the venue's timestamp in Unix milliseconds (0 when the venue sent none);
  ``ts_recv_ns`` is our wall-clock receive time of the frame in nanoseconds. Every event of one frame
  shares the frame's ``ts_recv_ns``.
* Token-scoped events carry ``asset_id`` (a token id, decimal string); market-scoped ones carry
  ``market`` (a condition id, ``0x`` + 64 hex). A ``price_change`` frame touching two tokens becomes
  one :class:`PriceChange` per token.
* Book levels in events are **best-first** (bids descending, asks ascending), whatever the wire order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec

__all__ = [
    "EVENT_TYPES",
    "BestBidAsk",
    "BookSnapshot",
    "Comment",
    "CryptoPrice",
    "EquityPrice",
    "Event",
    "FeedStatus",
    "LastTrade",
    "Level",
    "LevelChange",
    "MakerOrder",
    "MarketResolved",
    "NewMarket",
    "PriceChange",
    "ReferencePrice",
    "Side",
    "SportsScore",
    "TickSizeChange",
    "UserOrder",
    "UserTrade",
    "decode_event",
    "encode_event",
    "event_to_dict",
]

Side = Literal["BUY", "SELL"]
"""BUY is the bid side of a book; on trades it is the taker's side."""


class Level(msgspec.Struct, frozen=True, array_like=True, gc=False):
    price: Decimal
    size: Decimal


class LevelChange(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """New absolute aggregate size at ``price``; size 0 removes the level."""

    side: Side
    price: Decimal
    size: Decimal


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    ts_event_ms: int = 0
    ts_recv_ns: int = 0

    type: ClassVar[str]


# --- market channel -------------------------------------------------------------------------


class BookSnapshot(_Event, frozen=True, tag="book"):
    type: ClassVar[str] = "book"
    asset_id: str
    market: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    hash: str = ""
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    last_trade_price: Decimal | None = None
    source: Literal["ws", "rest"] = "ws"


class PriceChange(_Event, frozen=True, tag="price_change"):
    type: ClassVar[str] = "price_change"
    asset_id: str
    market: str
    changes: tuple[LevelChange, ...]
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None


class LastTrade(_Event, frozen=True, tag="last_trade_price"):
    type: ClassVar[str] = "last_trade_price"
    asset_id: str
    market: str
    price: Decimal
    size: Decimal
    side: Side | None = None
    fee_rate_bps: Decimal | None = None
    transaction_hash: str = ""


class TickSizeChange(_Event, frozen=True, tag="tick_size_change"):
    type: ClassVar[str] = "tick_size_change"
    asset_id: str
    market: str
    old_tick_size: Decimal | None
    new_tick_size: Decimal


class BestBidAsk(_Event, frozen=True, tag="best_bid_ask"):
    type: ClassVar[str] = "best_bid_ask"
    asset_id: str
    market: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None = None


class NewMarket(_Event, frozen=True, tag="new_market"):
    type: ClassVar[str] = "new_market"
    market: str
    market_id: str
    question: str
    slug: str
    asset_ids: tuple[str, ...]
    outcomes: tuple[str, ...]
    tick_size: Decimal | None = None
    active: bool = True
    tags: tuple[str, ...] = ()


class MarketResolved(_Event, frozen=True, tag="market_resolved"):
    type: ClassVar[str] = "market_resolved"
    market: str
    market_id: str
    asset_ids: tuple[str, ...]
    winning_asset_id: str
    winning_outcome: str
    source: Literal["ws", "gamma"] = "ws"


# --- user channel (the account's own orders and trades; read-only observation) ------------


class UserOrder(_Event, frozen=True, tag="user_order"):
    type: ClassVar[str] = "user_order"
    order_id: str
    market: str
    asset_id: str
    action: str
    """PLACEMENT, UPDATE (partial fill) or CANCELLATION (the wire's ``type`` field)."""
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: str = ""
    outcome: str = ""
    order_type: str = ""
    created_at_ms: int = 0
    source: Literal["ws", "rest_reconcile"] = "ws"
    """``rest_reconcile``: read over REST after a user-socket reconnect (a change the socket did not replay)."""


class MakerOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    order_id: str
    asset_id: str
    matched_amount: Decimal
    price: Decimal
    outcome: str = ""
    side: Side | None = None
    fee_rate_bps: Decimal | None = None


class UserTrade(_Event, frozen=True, tag="user_trade"):
    type: ClassVar[str] = "user_trade"
    trade_id: str
    market: str
    asset_id: str
    side: Side
    price: Decimal
    size: Decimal
    status: str
    """MATCHED -> MINED -> CONFIRMED, or RETRYING / FAILED (unknown strings kept as sent)."""
    trader_side: str = ""
    outcome: str = ""
    fee_rate_bps: Decimal | None = None
    match_time_ms: int = 0
    last_update_ms: int = 0
    transaction_hash: str = ""
    taker_order_id: str = ""
    maker_orders: tuple[MakerOrder, ...] = ()
    source: Literal["ws", "rest_reconcile"] = "ws"
    """``rest_reconcile``: read over REST after a user-socket reconnect (a change the socket did not replay)."""


# --- RTDS ----------------------------------------------------------------------------------


class CryptoPrice(_Event, frozen=True, tag="crypto_price"):
    type: ClassVar[str] = "crypto_price"
    symbol: str
    value: Decimal
    source: Literal["binance", "chainlink"]


class EquityPrice(_Event, frozen=True, tag="equity_price"):
    type: ClassVar[str] = "equity_price"
    symbol: str
    value: Decimal


class ReferencePrice(_Event, frozen=True, tag="reference_price"):
    """One PolyBolt reference price point (crypto, equity, or their 60 s TWAPs): one type for all four.

    ``value`` is the exact ``full_accuracy_value`` string as a Decimal (never the float ``value``);
    ``ts_event_ms`` is the point's own timestamp. ``snapshot`` marks points that came in the one snapshot
    sent after each (re)subscription (the preceding ~2 minutes); live points have it False.
    """

    type: ClassVar[str] = "reference_price"
    symbol: str
    """Lowercase PolyBolt symbol, e.g. ``btcusd``, ``aapl``, ``eurusd``."""
    channel: Literal["crypto", "equity", "crypto_twap", "equity_twap"]
    value: Decimal
    source: str
    """The producer named by the venue (``pyth``, ``chainlink``, ``massive``...)."""
    snapshot: bool = False
    window_seconds: int | None = None
    """60 on the TWAP channels, None on spot."""
    is_carried_forward: bool = False
    """Equity only: the value is carried over from the last session (market closed)."""


class Comment(_Event, frozen=True, tag="comment"):
    type: ClassVar[str] = "comment"
    kind: str
    """comment_created, comment_removed, reaction_created or reaction_removed."""
    entity_type: str
    entity_id: str
    comment_id: str
    body: str = ""
    user_address: str = ""
    reaction_type: str = ""


# --- sports socket -----------------------------------------------------------------------------


class SportsScore(_Event, frozen=True, tag="sports_score"):
    """One game update from the sports socket (WEBSOCKET_INTEGRATION.md, "Sports socket").

    The socket has two documented shapes, one keyed by a numeric ``gameId`` (with league and teams), one
    keyed by ``slug``; ``game_key`` is the ``gameId`` as a string when present, else the slug. ``status`` and
    ``period`` are kept as the venue's strings (their vocabularies differ per sport and change over time).
    ``home_score``/``away_score`` are ``score`` split on its first ``-`` (empty when the venue sent none).
    """

    type: ClassVar[str] = "sports_score"
    game_key: str
    game_id: str = ""
    slug: str = ""
    league: str = ""
    home_team: str = ""
    away_team: str = ""
    score: str = ""
    home_score: str = ""
    away_score: str = ""
    status: str = ""
    period: str = ""
    elapsed: str = ""
    live: bool | None = None
    ended: bool | None = None
    turn: str = ""
    finished_ms: int = 0
    """When the game finished (Unix ms; 0 = not given)."""


# --- ours ----------------------------------------------------------------------------------


class FeedStatus(_Event, frozen=True, tag="feed_status"):
    """A connection changed state. ``asset_ids`` lists the books it affects (stale or fresh again)."""

    type: ClassVar[str] = "feed_status"
    channel: Literal["market", "user", "rtds", "polybolt", "sports"]
    connection_id: str
    state: Literal["connecting", "connected", "disconnected", "stale", "resynced", "lossy", "auth_failed", "failed"]
    """``lossy``: PolyBolt frames were lost (``seq`` gap or ``dropped``); ``auth_failed``: credentials missing or
    refused (``detail`` says which and what to do); ``failed``: stopped for good (e.g. a policy close)."""
    detail: str = ""
    asset_ids: tuple[str, ...] = ()


Event = (
    BookSnapshot
    | PriceChange
    | LastTrade
    | TickSizeChange
    | BestBidAsk
    | NewMarket
    | MarketResolved
    | UserOrder
    | UserTrade
    | CryptoPrice
    | EquityPrice
    | ReferencePrice
    | Comment
    | SportsScore
    | FeedStatus
)

EVENT_TYPES: tuple[str, ...] = (
    "book",
    "price_change",
    "last_trade_price",
    "tick_size_change",
    "best_bid_ask",
    "new_market",
    "market_resolved",
    "user_order",
    "user_trade",
    "crypto_price",
    "equity_price",
    "reference_price",
    "comment",
    "sports_score",
    "feed_status",
)

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """Compact JSON with the ``type`` tag; decimals as strings."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    return _decoder.decode(data)


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready dict (decimals as strings, levels as ``[price, size]``), including ``type``."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result
