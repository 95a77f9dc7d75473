"""msgspec wire structs mirroring Polymarket's WebSocket JSON (docs/polymarket-protocol.md#market-events,
#user-channel, #rtds-frames).

Contract
--------
* These structs describe what the venue *sends*; they are converted into :mod:`model.events` by
  :mod:`.parsing` and never leave this package.
* Market and user channel messages are tagged unions on ``event_type``; each decoder is built once at
  import. Unknown fields are ignored (the venue adds fields over time).
* Prices and sizes that are always present are typed :class:`~decimal.Decimal`, so msgspec parses them
  straight from the JSON strings in C. Optional decimals that the venue may send as ``""`` (best bid,
  spread, last trade price, tick size) stay ``str`` and are converted by the parser.
* RTDS payload numbers are typed ``Decimal``: msgspec builds a Decimal from a JSON number's literal
  text, so ``189.55`` becomes ``Decimal("189.55")`` exactly, never through a binary float.
* The API-key fields ``owner``/``trade_owner``/``order_owner`` are deliberately not declared: they are
  the user's API key and must not travel further than the socket.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

__all__ = [
    "COMMENT_PAYLOAD_DECODER",
    "MARKET_EVENT_TYPES",
    "PRICE_PAYLOAD_DECODER",
    "RTDS_PRICE_TOPICS",
    "USER_EVENT_TYPES",
    "WireBestBidAsk",
    "WireBook",
    "WireCommentPayload",
    "WireLastTradePrice",
    "WireLegacyChange",
    "WireLevel",
    "WireMakerOrder",
    "WireMarketMessage",
    "WireMarketResolved",
    "WireNewMarket",
    "WireOrder",
    "WirePriceChange",
    "WirePriceChangeItem",
    "WirePricePayload",
    "WirePricePoint",
    "WireProbe",
    "WireRtdsMessage",
    "WireTickSizeChange",
    "WireTrade",
    "WireUserMessage",
]

WireSide = Literal["BUY", "SELL"]
Timestamp = str | int | float
"""Venue timestamps: ms strings on the market channel, seconds or ms on the user channel."""


class WireLevel(msgspec.Struct, frozen=True, gc=False):
    price: str
    """Kept as the wire text: prices sit on a tick grid, so parsing shares one Decimal per distinct text
    (``frames.price_of``) instead of building one per level; sizes are nearly all distinct."""
    size: Decimal


class _Market(msgspec.Struct, frozen=True, tag_field="event_type", gc=False):
    pass


class WireBook(_Market, frozen=True, tag="book"):
    asset_id: str
    market: str = ""
    bids: list[WireLevel] | None = None  # null tolerated as empty (books empty out near resolution)
    asks: list[WireLevel] | None = None
    timestamp: Timestamp = 0
    hash: str = ""
    tick_size: str | None = None
    min_order_size: str | None = None
    last_trade_price: str | None = None


class WirePriceChangeItem(msgspec.Struct, frozen=True, gc=False):
    """One change of the current (2025-09-15) schema; ``size`` is the new absolute level size."""

    asset_id: str
    price: str  # see WireLevel.price
    size: Decimal
    side: WireSide
    hash: str = ""
    best_bid: str | None = None
    best_ask: str | None = None


class WireLegacyChange(msgspec.Struct, frozen=True, gc=False):
    price: Decimal
    size: Decimal
    side: WireSide


class WirePriceChange(_Market, frozen=True, tag="price_change"):
    """All three schemas seen in the wild: ``price_changes[]`` (current), ``changes[]`` with a
    top-level ``asset_id`` (before 2025-09-15) and the flat 2024 form (price/side/size at top level)."""

    market: str = ""
    price_changes: list[WirePriceChangeItem] | None = None
    changes: list[WireLegacyChange] | None = None
    asset_id: str = ""
    price: Decimal | None = None
    size: Decimal | None = None
    side: WireSide | None = None
    timestamp: Timestamp = 0
    hash: str = ""


class WireTickSizeChange(_Market, frozen=True, tag="tick_size_change"):
    asset_id: str
    new_tick_size: Decimal
    market: str = ""
    old_tick_size: str | None = None
    timestamp: Timestamp = 0


class WireLastTradePrice(_Market, frozen=True, tag="last_trade_price"):
    asset_id: str
    price: Decimal
    size: Decimal
    market: str = ""
    side: str | None = None
    fee_rate_bps: str | None = None
    timestamp: Timestamp = 0
    transaction_hash: str | None = None


class WireBestBidAsk(_Market, frozen=True, tag="best_bid_ask"):
    asset_id: str
    market: str = ""
    best_bid: str | None = None
    best_ask: str | None = None
    spread: str | None = None
    timestamp: Timestamp = 0


class WireNewMarket(_Market, frozen=True, tag="new_market"):
    market: str
    id: str | int = ""
    question: str = ""
    slug: str = ""
    assets_ids: list[str] | None = None
    outcomes: list[str] | None = None
    timestamp: Timestamp = 0
    tags: list[str] | None = None
    active: bool = True
    order_price_min_tick_size: str | None = None


class WireMarketResolved(_Market, frozen=True, tag="market_resolved"):
    market: str
    id: str | int = ""
    assets_ids: list[str] | None = None
    winning_asset_id: str = ""
    winning_outcome: str = ""
    timestamp: Timestamp = 0


WireMarketMessage = (
    WireBook
    | WirePriceChange
    | WireTickSizeChange
    | WireLastTradePrice
    | WireBestBidAsk
    | WireNewMarket
    | WireMarketResolved
)
MARKET_EVENT_TYPES = frozenset(
    {"book", "price_change", "tick_size_change", "last_trade_price", "best_bid_ask", "new_market", "market_resolved"}
)


# --- user channel ---------------------------------------------------------------------------


class _User(msgspec.Struct, frozen=True, tag_field="event_type", gc=False):
    pass


class WireOrder(_User, frozen=True, tag="order"):
    id: str
    market: str
    asset_id: str
    side: WireSide
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    type: str = ""
    outcome: str = ""
    order_type: str = ""
    status: str = ""
    created_at: Timestamp | None = None
    expiration: Timestamp | None = None
    """Only on the REST rows (``GET /data/orders``); ``"0"`` means good-till-cancelled."""
    timestamp: Timestamp = 0


class WireMakerOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    matched_amount: Decimal
    price: Decimal
    asset_id: str = ""
    outcome: str = ""
    side: WireSide | None = None
    fee_rate_bps: str | None = None


class WireTrade(_User, frozen=True, tag="trade"):
    id: str
    market: str
    asset_id: str
    side: WireSide
    price: Decimal
    size: Decimal
    status: str = ""
    taker_order_id: str = ""
    fee_rate_bps: str | None = None
    match_time: Timestamp | None = None
    matchtime: Timestamp | None = None
    last_update: Timestamp | None = None
    outcome: str = ""
    trader_side: str = ""
    transaction_hash: str | None = None
    maker_orders: list[WireMakerOrder] | None = None
    timestamp: Timestamp = 0


WireUserMessage = WireOrder | WireTrade
USER_EVENT_TYPES = frozenset({"order", "trade"})


class WireProbe(msgspec.Struct, frozen=True, gc=False):
    """Just enough of a message to tell an unknown ``event_type`` from a malformed message."""

    event_type: str | None = None


# --- RTDS -----------------------------------------------------------------------------------


class WireRtdsMessage(msgspec.Struct, frozen=True, gc=False):
    """RTDS envelope; ``payload`` is decoded per topic (see ``RTDS_PAYLOAD_DECODER``)."""

    topic: str = ""
    type: str = ""
    timestamp: int | float | None = None
    payload: msgspec.Raw = msgspec.Raw()
    """Empty (falsy) when absent."""


class WirePricePoint(msgspec.Struct, frozen=True, gc=False):
    timestamp: int | float | str | None = None
    value: Decimal | None = None


class WirePricePayload(msgspec.Struct, frozen=True, gc=False):
    """Update ``{symbol, timestamp, value[, full_accuracy_value]}`` or snapshot ``{symbol, data: [...]}``."""

    symbol: str = ""
    timestamp: int | float | str | None = None
    value: Decimal | None = None
    full_accuracy_value: Decimal | None = None
    data: list[WirePricePoint] | None = None


class WireCommentPayload(
    msgspec.Struct,
    frozen=True,
    gc=False,
    rename={
        "parent_entity_type": "parentEntityType",
        "parent_entity_id": "parentEntityID",
        "comment_id": "commentID",
        "user_address": "userAddress",
        "reaction_type": "reactionType",
    },
):
    id: str | int | None = None
    body: str | None = None
    parent_entity_type: str | None = None
    parent_entity_id: str | int | None = None
    comment_id: str | int | None = None
    user_address: str | None = None
    reaction_type: str | None = None


PRICE_PAYLOAD_DECODER = msgspec.json.Decoder(WirePricePayload)
COMMENT_PAYLOAD_DECODER = msgspec.json.Decoder(WireCommentPayload)
RTDS_PRICE_TOPICS = frozenset({"crypto_prices", "crypto_prices_chainlink", "equity_prices"})
