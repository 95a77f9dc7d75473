"""Pydantic result models for the core tools (they become each tool's ``outputSchema`` and
``structuredContent``). Prices and sizes are decimal strings (exact), timestamps are Unix
milliseconds, ages are seconds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConnectionStatus",
    "EventEntry",
    "EventsResult",
    "StatisticsResult",
    "StatusResult",
    "SubscriptionInfo",
    "SubscriptionResult",
    "SubscriptionsSummary",
    "UnsubscribeResult",
]


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
