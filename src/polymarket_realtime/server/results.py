"""Pydantic result models for the core tools (they become each tool's ``outputSchema`` and
``structuredContent``). Prices and sizes are decimal strings (exact), timestamps are Unix
milliseconds, ages are seconds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..model.markets import MarketInfo

__all__ = [
    "ConnectionStatus",
    "EventEntry",
    "EventsResult",
    "MarketResult",
    "OrderBookResult",
    "OutcomeResult",
    "PriceLevel",
    "SearchResult",
    "StatisticsResult",
    "StatusResult",
    "SubscriptionInfo",
    "SubscriptionResult",
    "SubscriptionsSummary",
    "UnsubscribeResult",
    "dec_str",
]


def dec_str(value: Decimal | str | int | None) -> str | None:
    """A Decimal as a plain string (no exponent), ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class SubscriptionResult(BaseModel):
    subscription_id: str = Field(description="Pass to get_events / unsubscribe_realtime.")
    kind: str = Field(
        description="prices | orderbook | resolution | reference_prices | comments | sports_scores | user_*"
    )
    token_ids: list[str] = Field(description="Token ids covered (empty = all markets for resolution).")
    market_ids: list[str] = Field(default_factory=list, description="Condition ids covered, when known.")
    callback_type: Literal["notification", "log"] = "notification"
    status: str = Field(
        description="'active' once registered (data streams in shortly); 'waiting_for_feed' while the shared "
        "feed (Redis) is unreachable: kept, and data starts when it returns."
    )
    next_step: str = Field(description="What to call next to read events.")
    poll_interval_s: float | None = Field(default=None, description="Seconds between polls when polled (comments).")


class EventEntry(BaseModel):
    seq: int = Field(description="Dense per-subscription sequence number, from 1.")
    type: str = Field(description="Event type, e.g. price_change, last_trade_price, best_bid_ask, book.")
    token_id: str | None = Field(default=None, description="Token (asset) id the event is about, if any.")
    ts_event: int = Field(description="Venue timestamp, Unix ms (0 if the venue sent none).")
    ts_recv: int = Field(description="Our receive time, Unix ns.")
    data: dict[str, Any] = Field(description="Event fields; prices/sizes are decimal strings.")


class EventsResult(BaseModel):
    subscription_id: str
    events: list[EventEntry]
    next_seq: int = Field(description="Pass as after_seq on the next get_events call.")
    dropped: int = Field(description="Events lost between after_seq and the oldest retained event (buffer overflow).")
    has_more: bool = Field(description="True if more events are already waiting: call again immediately.")


class ConnectionStatus(BaseModel):
    state: str = "idle"
    url: str = ""
    connected_since: float | None = Field(default=None, description="Unix seconds, or null when not connected.")
    reconnects: int = 0
    last_error: str | None = None
    last_message_age_s: float | None = None
    assets: int = Field(default=0, description="Subscribed assets/markets/topics on this channel.")
    auth: str | None = Field(
        default=None,
        description="PolyBolt only: authed | pending | missing (no credentials) | refused | unavailable (venue side).",
    )
    credentials: str | None = Field(default=None, description="PolyBolt only: configured | missing.")
    seq_gaps: int | None = Field(default=None, description="PolyBolt only: sequence gaps seen (frames lost).")
    frames_lost: int | None = Field(default=None, description="PolyBolt only: frames lost (gaps plus `dropped`).")


class SubscriptionInfo(BaseModel):
    subscription_id: str
    kind: str
    token_ids: list[str]
    events_delivered: int = Field(description="Events appended to this subscription's log.")
    events_dropped: int = Field(description="Events evicted from the bounded log before being read.")
    last_event_age_s: float | None = None


class SubscriptionsSummary(BaseModel):
    total: int
    active: list[SubscriptionInfo]


class StatisticsResult(BaseModel):
    model_config = ConfigDict(extra="allow")  # the feed adds more counters (dropped_events, resyncs, ...)

    total_events: int = 0
    events_by_type: dict[str, int] = Field(default_factory=dict)
    malformed_frames: int = 0
    unknown_events: int = 0
    reconnect_count: int = 0
    uptime_s: float = 0.0
    events_per_s: float = 0.0


class StatusResult(BaseModel):
    connections: dict[str, ConnectionStatus] = Field(description="market, user, rtds, polybolt and sports sockets.")
    subscriptions: SubscriptionsSummary
    statistics: StatisticsResult
    shared_feed: dict[str, Any] | None = Field(
        default=None,
        description="Shared-feed (Redis) mode only: Redis link, lag behind the stream heads, the active feed process.",
    )
    rate_limits: dict[str, Any] = Field(
        default_factory=dict,
        description="This process's REST rate limiting: requests, throttled (waited for the client-side per-family "
        "limit), throttled_wait_s, retries, http_429, http_503, gave_up (429/503 passed on), throttled_by_family.",
    )


class UnsubscribeResult(BaseModel):
    removed: list[str]
    remaining: list[str] = Field(description="Subscription ids still active.")


class PriceLevel(BaseModel):
    price: str
    size: str


class OrderBookResult(BaseModel):
    token_id: str
    bids: list[PriceLevel] = Field(description="Best (highest) bid first.")
    asks: list[PriceLevel] = Field(description="Best (lowest) ask first.")
    best_bid: str | None = None
    best_ask: str | None = None
    mid: str | None = None
    spread: str | None = None
    tick_size: str | None = None
    last_trade_price: str | None = None
    source: str = Field(description="'ws' when streamed live, 'rest' for a one-off REST snapshot.")
    age_s: float | None = Field(default=None, description="Seconds since the book was last updated.")
    stale: bool = False


class OutcomeResult(BaseModel):
    name: str
    token_id: str
    price: str | None = Field(default=None, description="Indicative probability 0..1 from Gamma.")


class MarketResult(BaseModel):
    question: str
    slug: str
    condition_id: str
    market_id: str
    end_date: str | None = None
    volume: str | None = Field(default=None, description="Lifetime volume, USDC.")
    liquidity: str | None = Field(default=None, description="Resting liquidity, USDC.")
    active: bool
    closed: bool
    accepting_orders: bool | None = None
    tick_size: str | None = None
    min_order_size: str | None = None
    best_bid: str | None = None
    best_ask: str | None = None
    last_trade_price: str | None = None
    event_slug: str = ""
    winning_outcome: str | None = None
    version: str = Field(default="v1", description="v1, or v2 (Protocol V2: 75-digit outcome ids).")
    not_streamable: str | None = Field(default=None, description="Why it cannot be streamed yet (no outcomes).")
    outcomes: list[OutcomeResult]

    @classmethod
    def from_info(cls, m: MarketInfo) -> MarketResult:
        return cls(
            question=m.question,
            slug=m.slug,
            condition_id=m.condition_id,
            market_id=m.market_id,
            end_date=m.end_date,
            volume=dec_str(m.volume),
            liquidity=dec_str(m.liquidity),
            active=m.active,
            closed=m.closed,
            accepting_orders=m.accepting_orders,
            tick_size=dec_str(m.tick_size),
            min_order_size=dec_str(m.min_order_size),
            best_bid=dec_str(m.best_bid),
            best_ask=dec_str(m.best_ask),
            last_trade_price=dec_str(m.last_trade_price),
            event_slug=m.event_slug,
            winning_outcome=m.winning_outcome,
            version=m.version,
            not_streamable=m.unsupported_reason,
            outcomes=[OutcomeResult(name=o.name, token_id=o.token_id, price=dec_str(o.price)) for o in m.outcomes],
        )


class SearchResult(BaseModel):
    query: str
    count: int
    markets: list[MarketResult]
