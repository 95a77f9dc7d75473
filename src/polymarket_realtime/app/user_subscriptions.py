"""Subscriptions to the account's own orders and trades (the user channel), for ``subscribe_user_*``."""

from __future__ import annotations

from collections.abc import Callable

from ..model.events import Event, FeedStatus, UserTrade
from ..routing.eventlog import LogEntry
from ..routing.router import Subscription
from ..venues.polymarket.protocol import is_condition_id
from .root import Application
from .subscriptions import create_subscription
from .validation import check_market_refs

__all__ = ["USER_ORDER_TYPES", "USER_TRADE_TYPES", "condition_ids", "subscribe_user"]

USER_ORDER_TYPES = frozenset({"user_order", "feed_status"})
USER_TRADE_TYPES = frozenset({"user_trade", "feed_status"})


async def condition_ids(app: Application, market_ids: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for ref in check_market_refs(market_ids):
        found[ref if is_condition_id(ref) else (await app.gamma.get_market(ref)).condition_id] = None
    return list(found)


def _is_user_status(event: Event) -> bool:
    return not isinstance(event, FeedStatus) or event.channel == "user"


def _user_filter(conditions: list[str]) -> Callable[[Event], bool]:
    """User events of ``conditions`` plus the user channel's ``feed_status`` (which names no market)."""
    wanted = frozenset(conditions)

    def predicate(event: Event) -> bool:
        if isinstance(event, FeedStatus):
            return event.channel == "user"
        return getattr(event, "market", None) in wanted

    return predicate


async def subscribe_user(app: Application, kind: str, market_ids: list[str], callback_type: str) -> Subscription:
    """A ``user_orders``/``user_trades`` subscription; trades also feed the account's trade tracker."""
    service = app.require_user()
    manager, _ = service.require()
    conditions = await condition_ids(app, market_ids)
    await manager.get()  # derive (or load) now, so a credential problem is this call's error
    sub = await create_subscription(
        app,
        kind=kind,
        token_ids=(),
        event_types=USER_TRADE_TYPES if kind == "user_trades" else USER_ORDER_TYPES,
        callback_type=callback_type,
        # Registered unfiltered (routing by market would never deliver the user channel's feed_status, which
        # names no market) and narrowed by the predicate; the venue side is filtered by ``user_markets``.
        market_ids=(),
        predicate=_user_filter(conditions) if conditions else _is_user_status,
        user_markets=conditions,
        meta={"condition_ids": conditions},
    )
    if kind == "user_trades":
        notify = sub.on_event

        def on_event(s: Subscription, entry: LogEntry) -> None:
            if isinstance(entry.event, UserTrade):
                service.on_trade(entry.event)
            if notify is not None:
                notify(s, entry)

        sub.on_event = on_event
        for entry in sub.log.read(0, sub.log.capacity).entries:  # anything routed before the hook was set
            if isinstance(entry.event, UserTrade):
                service.on_trade(entry.event)
    # The answer reports the socket's first attempt (bounded wait), so refused credentials show here.
    await app.feed.wait_user_first_attempt(app.settings.user_first_status_s)
    return sub
