"""Subscriptions with logic of their own: market resolutions (venue or Gamma fallback, once per market) and
comments (polled from Gamma)."""

from __future__ import annotations

from ..errors import InvalidInputError
from ..model.events import Event, MarketResolved
from ..routing.router import Subscription
from .root import Application
from .subscriptions import COMMENT_TYPES, RESOLUTION_TYPES, create_subscription, tokens_for

__all__ = ["subscribe_comments_of", "subscribe_resolution"]


async def subscribe_resolution(
    app: Application, token_ids: list[str], market_ids: list[str], *, callback_type: str
) -> Subscription:
    """Resolutions of the given tokens/markets, or of every market when neither is given."""
    tokens, conditions = await tokens_for(app, token_ids, market_ids)
    if tokens and not conditions:
        # Token-only filters: learn the condition ids so the Gamma fallback can poll them.
        for token in tokens:
            market = await app.gamma.get_market(token)
            if market.condition_id not in conditions:
                conditions.append(market.condition_id)
    wide = not tokens
    announced: set[str] = set()

    def predicate(event: Event) -> bool:
        # Once per market per subscription, whichever source (venue or Gamma fallback) came first.
        if isinstance(event, MarketResolved):
            if event.market in announced:
                return False
            announced.add(event.market)
            return True
        return _market_channel_only(event) if wide else True

    return await create_subscription(
        app,
        kind="resolution",
        token_ids=tokens,
        market_ids=conditions,
        event_types=RESOLUTION_TYPES,
        callback_type=callback_type,
        assets=tokens,
        market_events=wide,
        predicate=predicate,
        meta={"condition_ids": conditions},
    )


async def subscribe_comments_of(app: Application, event_id: str, *, callback_type: str) -> Subscription:
    """New comments on one Gamma event (polled); raises, with nothing registered, for an unknown event."""
    entity = str(event_id).strip()
    if not entity.isdigit() or len(entity) > 12:
        raise InvalidInputError(f"event_id {event_id!r} must be the numeric Gamma event id, e.g. '18396'")
    poller = app.comments
    await poller.prepare(entity)

    def predicate(event: Event) -> bool:
        return event.type == "comment" and str(getattr(event, "entity_id", "")) == entity

    return await create_subscription(
        app,
        kind="comments",
        token_ids=(),
        event_types=COMMENT_TYPES,
        callback_type=callback_type,
        predicate=predicate,
        meta={"event_id": entity, "poll_interval_s": poller.interval_s},
    )


def _market_channel_only(event: Event) -> bool:
    if event.type == "feed_status":
        return getattr(event, "channel", "") == "market"
    return True
