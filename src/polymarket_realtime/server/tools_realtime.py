"""Toolset ``realtime``: subscriptions with cursor-read event logs, status and unsubscribe.

The model sees live data only through tool results, so every subscription keeps a sequenced, bounded
event log read with ``get_events(subscription_id, after_seq, limit, wait_s)``; push notifications are
an extra for clients that show them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.subscription_kinds import subscribe_comments_of, subscribe_resolution
from ..app.subscriptions import (
    ORDERBOOK_TYPES,
    PRICE_TYPES,
    remove_subscription,
    subscribe_tokens,
)
from ..app.validation import check_depth, check_limit, check_wait_s
from ..errors import InvalidInputError
from ..feed.contract import FeedBackend
from ..feed.status import ChannelStatus
from ..routing.eventlog import entry_to_dict
from ..venues.polymarket.ratelimit import shared_limiter
from . import tools_sports
from .annotations import CREATE as _SUBSCRIBE, READ_LOCAL as _READ_LOCAL, REMOVE as _UNSUBSCRIBE
from .context import app_context
from .notify import Notifier
from .results import (
    ConnectionStatus,
    EventEntry,
    EventsResult,
    StatisticsResult,
    StatusResult,
    SubscriptionInfo,
    SubscriptionResult,
    SubscriptionsSummary,
    UnsubscribeResult,
)

__all__ = ["build_status", "register"]

CallbackType = Literal["notification", "log"]
CHANNELS = ("market", "user", "rtds", "polybolt", "sports")


_FOLLOW_UP = "Then get_events(subscription_id, after_seq=0, wait_s=10), passing after_seq=next_seq each time."
_CALLBACK_DOC = "'log': no MCP notifications, events go to the server log. Read events with get_events either way."

TokenIds = Annotated[list[str], Field(description="Outcome token ids (decimal strings) from get_market.")]
MarketIds = Annotated[
    list[str],
    Field(description="Condition ids (0x + 62 or 64 hex) or market slugs; every outcome token is included."),
]
Callback = Annotated[CallbackType, Field(description=_CALLBACK_DOC)]


def _sub_result(sub: Any, next_step: str = _FOLLOW_UP, *, feed: FeedBackend | None = None) -> SubscriptionResult:
    status = "active"
    if feed is not None and not feed.link_up:
        # Shared-feed mode with Redis down: the subscription is kept and fills once the link returns.
        status = "waiting_for_feed"
        next_step = (
            "Redis (the shared feed) is unreachable right now: the subscription is kept and its events start "
            "when it returns (get_realtime_status shows the link). " + next_step
        )
    return SubscriptionResult(
        subscription_id=sub.subscription_id,
        kind=sub.kind,
        token_ids=sorted(sub.token_ids),
        market_ids=list(sub.meta.get("condition_ids", [])),
        callback_type="log" if sub.callback_type == "log" else "notification",
        status=status,
        next_step=next_step,
    )


async def _subscribe_tokens(
    app: Application,
    kind: str,
    event_types: frozenset[str],
    token_ids: list[str],
    market_ids: list[str],
    *,
    callback_type: str,
    depth: int = 0,
) -> SubscriptionResult:
    """A subscription on outcome tokens (given directly, or every outcome of the given markets)."""
    sub = await subscribe_tokens(
        app, kind, event_types, token_ids, market_ids, callback_type=callback_type, depth=depth
    )
    return _sub_result(sub, feed=app.feed)


def _conn(channel: ChannelStatus) -> ConnectionStatus:
    """The result view of one channel's typed status (PolyBolt-only fields stay null elsewhere)."""
    return ConnectionStatus(
        state=channel.state,
        url=channel.url,
        connected_since=channel.connected_since,
        reconnects=channel.reconnects,
        last_error=channel.last_error,
        last_message_age_s=channel.last_message_age_s,
        assets=channel.assets,
        auth=channel.auth,
        credentials=channel.credentials,
        seq_gaps=channel.seq_gaps,
        frames_lost=channel.frames_lost,
    )


def build_status(app: Application) -> StatusResult:
    report = app.feed.status()
    connections = {name: _conn(report.connections.get(name) or ChannelStatus()) for name in CHANNELS}
    for name, value in report.connections.items():
        if name not in connections:
            connections[name] = _conn(value)
    now_ns = app.clock.time_ns()
    active = [SubscriptionInfo(**sub.summary(now_ns)) for sub in app.router.list()]
    stats = dict(report.statistics)
    stats.setdefault("uptime_s", round(app.clock.monotonic() - app.started_monotonic, 3))
    notifier = app.notifier
    if isinstance(notifier, Notifier):  # the MCP server always builds one; the counters are MCP's own
        notified = notifier.stats
        stats["notifications"] = {
            "resource_updates_sent": notified.resource_updates_sent,
            "log_messages_sent": notified.log_messages_sent,
            "dropped": notified.dropped,
            "send_failures": notified.send_failures,
            "legacy_sessions": notifier.legacy_sessions,
        }
    return StatusResult(
        connections=connections,
        subscriptions=SubscriptionsSummary(total=len(active), active=active),
        statistics=StatisticsResult(**{k: v for k, v in stats.items() if v is not None}),
        shared_feed=dict(report.shared_feed) if report.shared_feed is not None else None,
        rate_limits=shared_limiter().status(),
    )


def register(mcp: MCPServer[Application]) -> None:
    from . import tools_reference  # PolyBolt reference prices (subscribe_reference_prices, subscribe_crypto_prices)

    tools_reference.register(mcp)

    @mcp.tool(
        title="Subscribe to market prices",
        annotations=_SUBSCRIBE,
        description=(
            "Stream price events for token_ids and/or market_ids (slug or condition id: all outcomes): price_change "
            "(level changes, best bid/ask), last_trade_price (price, size, side), best_bid_ask, tick_size_change, "
            "feed_status (connection lost/back). Prices: USDC per share (0..1), decimal strings. " + _FOLLOW_UP
        ),
    )
    async def subscribe_market_prices(
        ctx: Context[Application],
        token_ids: TokenIds = [],  # noqa: B006 - the MCP schema default; never mutated
        market_ids: MarketIds = [],  # noqa: B006
        callback_type: Callback = "notification",
    ) -> SubscriptionResult:
        return await _subscribe_tokens(
            app_context(ctx), "prices", PRICE_TYPES, token_ids, market_ids, callback_type=callback_type
        )

    @mcp.tool(
        title="Subscribe to order-book updates",
        annotations=_SUBSCRIBE,
        description=(
            "Stream order-book events for outcome tokens; each event's data.book holds the top depth levels per side "
            "best-first ({price, size} decimal strings), best_bid, best_ask, mid, spread, tick_size, "
            "last_trade_price, age_s, stale (true while the feed reconnects). Types: book, price_change, "
            "last_trade_price, best_bid_ask, tick_size_change, feed_status. " + _FOLLOW_UP
        ),
    )
    async def subscribe_orderbook_updates(
        ctx: Context[Application],
        token_ids: TokenIds = [],  # noqa: B006
        market_ids: MarketIds = [],  # noqa: B006
        depth: Annotated[int, Field(description="Price levels per side in each event, 1-100.")] = 10,
        callback_type: Callback = "notification",
    ) -> SubscriptionResult:
        check_depth(depth)
        return await _subscribe_tokens(
            app_context(ctx),
            "orderbook",
            ORDERBOOK_TYPES,
            token_ids,
            market_ids,
            callback_type=callback_type,
            depth=depth,
        )

    @mcp.tool(
        title="Subscribe to market resolutions",
        annotations=_SUBSCRIBE,
        description=(
            "Watch markets resolve: market_resolved {market (condition id), winning_outcome, winning_asset_id, "
            "source: 'ws' live or 'gamma' (periodic REST backup)}; new_market announces markets. Both token_ids and "
            "market_ids empty = ALL markets. " + _FOLLOW_UP
        ),
    )
    async def subscribe_market_resolution(
        ctx: Context[Application],
        token_ids: TokenIds = [],  # noqa: B006
        market_ids: MarketIds = [],  # noqa: B006
        callback_type: Callback = "notification",
    ) -> SubscriptionResult:
        app = app_context(ctx)
        sub = await subscribe_resolution(app, token_ids, market_ids, callback_type=callback_type)
        return _sub_result(sub, feed=app.feed)

    @mcp.tool(
        title="Subscribe to comments (polled)",
        annotations=_SUBSCRIBE,
        description=(
            "Watch new comments on one event (numeric Gamma event_id), POLLED every poll_interval_s (default 10 s): "
            "each new one once as comment {comment_id, body, user_address, entity_id}; no replay of older ones. "
            "At most 10 events. " + _FOLLOW_UP
        ),
    )
    async def subscribe_comments(
        ctx: Context[Application],
        event_id: Annotated[str, Field(description="Numeric Gamma event id, e.g. '18396'.")],
        callback_type: Callback = "notification",
    ) -> SubscriptionResult:
        app = app_context(ctx)
        sub = await subscribe_comments_of(app, event_id, callback_type=callback_type)
        poller = app.comments
        result = _sub_result(
            sub,
            f"Comments are polled every {poller.interval_s:g} s (not streamed), so new ones appear with up to "
            "that delay. " + _FOLLOW_UP,
        )
        result.poll_interval_s = poller.interval_s
        return result

    @mcp.tool(
        title="Read subscription events",
        annotations=_READ_LOCAL,
        description=(
            "Read a subscription's events after a cursor: {events: [{seq, type, token_id, ts_event (venue, Unix ms), "
            "ts_recv (ours, Unix ns), data}], next_seq, dropped, has_more}. Pass after_seq=next_seq next time to get "
            "each event once; dropped > 0: that many were evicted unread (read more often). wait_s > 0 long-polls "
            "until an event arrives (max 25 s)."
        ),
    )
    async def get_events(
        ctx: Context[Application],
        subscription_id: Annotated[str, Field(description="From a subscribe_* result.")],
        after_seq: Annotated[
            int, Field(description="Cursor: return events with seq > after_seq. 0 = from the start.")
        ] = 0,
        limit: Annotated[int, Field(description="Maximum events to return, 1-1000.")] = 100,
        wait_s: Annotated[float, Field(description="Long-poll seconds if nothing is new yet (0-25).")] = 0,
    ) -> EventsResult:
        app = app_context(ctx)
        check_limit(limit, maximum=1000)
        if after_seq < 0:
            raise InvalidInputError(f"after_seq must be >= 0 (got {after_seq}); use 0 to read from the start")
        wait = check_wait_s(wait_s)
        sub = app.router.get(subscription_id.strip())
        # A cursor from the future re-anchors at the end once, before waiting, so the event that wakes
        # the long-poll is the one returned.
        after_seq = min(after_seq, sub.log.last_seq)
        if wait > 0:
            await sub.log.wait(after_seq, wait)
        read = sub.log.read(after_seq, limit)
        return EventsResult(
            subscription_id=sub.subscription_id,
            events=[EventEntry(**entry_to_dict(e)) for e in read.entries],
            next_seq=read.next_seq,
            dropped=read.dropped,
            has_more=sub.log.last_seq > read.next_seq,
        )

    @mcp.tool(
        title="Real-time status",
        annotations=_READ_LOCAL,
        description=(
            "Health of the live feed: each socket (market, user, rtds, polybolt, sports) with state, reconnects, "
            "last_error and last_message_age_s; each subscription with events delivered/dropped and "
            "last_event_age_s; feed statistics. Call it when events stop arriving."
        ),
    )
    async def get_realtime_status(ctx: Context[Application]) -> StatusResult:
        app = app_context(ctx)
        # Shared-feed mode: re-read leader and stream heads now (bounded; cached values if Redis is slow).
        await app.feed.refresh_status()
        return build_status(app)

    @mcp.tool(
        title="Unsubscribe",
        annotations=_UNSUBSCRIBE,
        description=(
            "Stop a subscription (its event log is discarded and the venue subscription released when no other "
            "subscription needs it). Pass subscription_id, or all=true to stop every subscription."
        ),
    )
    async def unsubscribe_realtime(
        ctx: Context[Application],
        subscription_id: Annotated[str, Field(description="The id to stop; empty with all=true.")] = "",
        all: Annotated[bool, Field(description="Stop every subscription.")] = False,
    ) -> UnsubscribeResult:
        app = app_context(ctx)
        if all:
            ids = [s.subscription_id for s in app.router.list()]
        elif subscription_id.strip():
            ids = [app.router.get(subscription_id.strip()).subscription_id]
        else:
            raise InvalidInputError("pass subscription_id (see get_realtime_status for the active ones) or all=true")
        removed = [(await remove_subscription(app, sid)).subscription_id for sid in ids]
        return UnsubscribeResult(removed=removed, remaining=[s.subscription_id for s in app.router.list()])

    tools_sports.register(mcp)  # subscribe_sports_scores: same toolset, its own module
