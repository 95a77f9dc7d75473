"""Creating and removing subscriptions: router registration plus the feed interest behind them.

Every subscription owns an :class:`~polymarket_realtime.routing.eventlog.EventLog` (bounded by
``settings.event_buffer_size``) that ``get_events`` reads with a cursor, and an ``on_event`` callback
into the
application's :class:`~polymarket_realtime.app.root.Notifications` (MCP pushes). What it asked of the feed (assets, the
market-events stream, RTDS topics) is recorded in ``sub.meta["feed"]`` so removal releases exactly that
(the manager ref-counts, so two subscriptions on one token keep it subscribed until both are gone).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any

import anyio

from ..errors import InvalidInputError
from ..model.conditions import condition_key
from ..model.events import Event
from ..routing.eventlog import EventLog
from ..routing.router import Subscription
from .root import Application
from .validation import check_market_refs, check_token_ids

__all__ = [
    "COMMENT_TYPES",
    "ORDERBOOK_TYPES",
    "PRICE_TYPES",
    "REFERENCE_TYPES",
    "RESOLUTION_TYPES",
    "SPORTS_TYPES",
    "create_subscription",
    "remove_subscription",
    "resolve_markets",
    "subscribe_tokens",
    "tokens_for",
]

log = logging.getLogger(__name__)

PRICE_TYPES = frozenset({"price_change", "last_trade_price", "best_bid_ask", "tick_size_change", "feed_status"})
ORDERBOOK_TYPES = frozenset(
    {"book", "price_change", "last_trade_price", "best_bid_ask", "tick_size_change", "feed_status"}
)
RESOLUTION_TYPES = frozenset({"market_resolved", "new_market", "feed_status"})
REFERENCE_TYPES = frozenset({"reference_price", "feed_status"})
COMMENT_TYPES = frozenset({"comment", "feed_status"})
SPORTS_TYPES = frozenset({"sports_score", "feed_status"})

_PREFIX = {"prices": "px", "orderbook": "ob", "resolution": "res", "comments": "cm"}
_PREFIX.update({"user_orders": "uo", "user_trades": "ut"})  # issue 4 (user channel)
_PREFIX["reference_prices"] = "rp"  # PolyBolt
_PREFIX["sports_scores"] = "sp"


async def resolve_markets(app: Application, market_ids: list[str]) -> tuple[list[str], list[str]]:
    """Token ids and condition ids of the given market refs (slugs or condition ids), via Gamma."""
    tokens: dict[str, None] = {}
    conditions: dict[str, None] = {}
    for ref in market_ids:
        market = await app.gamma.get_market(ref)
        if not market.outcomes:
            raise InvalidInputError(
                f"market {ref!r} is not streamable yet: {market.unsupported_reason or 'it has no outcome ids'}. "
                "Nothing was subscribed; pick another market (search_markets)."
            )
        conditions[market.condition_id] = None
        for token in market.token_ids:
            tokens[token] = None
    return list(tokens), list(conditions)


async def tokens_for(app: Application, token_ids: list[str], market_ids: list[str]) -> tuple[list[str], list[str]]:
    """Checked token ids plus every outcome of the given markets; and the markets' condition ids."""
    tokens = check_token_ids(token_ids)
    refs = check_market_refs(market_ids)
    conditions: list[str] = []
    if refs:
        more, conditions = await resolve_markets(app, refs)
        tokens = list(dict.fromkeys([*tokens, *more]))
    return tokens, conditions


async def subscribe_tokens(
    app: Application,
    kind: str,
    event_types: frozenset[str],
    token_ids: list[str],
    market_ids: list[str],
    *,
    callback_type: str,
    depth: int = 0,
) -> Subscription:
    """A subscription on outcome tokens (given directly, or every outcome of the given markets)."""
    tokens, conditions = await tokens_for(app, token_ids, market_ids)
    if not tokens:
        raise InvalidInputError("send at least one token id or market id (use search_markets to find one)")
    return await create_subscription(
        app,
        kind=kind,
        token_ids=tokens,
        event_types=event_types,
        depth=depth,
        callback_type=callback_type,
        assets=tokens,
        meta={"condition_ids": conditions},
    )


async def create_subscription(
    app: Application,
    *,
    kind: str,
    token_ids: Iterable[str],
    market_ids: Iterable[str] = (),
    event_types: frozenset[str],
    depth: int = 0,
    callback_type: str = "notification",
    predicate: Callable[[Event], bool] | None = None,
    assets: Iterable[str] = (),
    market_events: bool = False,
    rtds: tuple[str, str] | None = None,
    meta: dict[str, Any] | None = None,
    user_markets: Iterable[str] | None = None,
    reference: Iterable[str] = (),
    sports: bool = False,
) -> Subscription:
    """Register a subscription with the router, then ask the feed for the data it needs.

    The subscription is routed before the feed subscribes so the initial book dump is not missed; if the
    feed call fails the subscription is removed again and the error propagates.
    """
    sub_id = f"{_PREFIX.get(kind, 'sub')}_{secrets.token_hex(4)}"
    asset_list = list(dict.fromkeys(assets))
    sub = Subscription(
        subscription_id=sub_id,
        kind=kind,
        token_ids=frozenset(token_ids),
        market_ids=frozenset(condition_key(m) for m in market_ids),  # joins use the canonical 64-hex form
        event_types=event_types,
        depth=depth,
        callback_type=callback_type,
        log=EventLog(app.settings.event_buffer_size),
        predicate=predicate,
        on_event=app.notifier.on_subscription_event,
        created_ns=app.clock.time_ns(),
        meta={
            **(meta or {}),
            "feed": {"assets": asset_list, "market_events": market_events, "rtds": rtds, "sports": sports},
        },
    )
    app.router.add(sub)
    done: dict[str, Any] = {"assets": [], "market_events": False, "rtds": None}
    try:
        if asset_list:
            await app.feed.subscribe_assets(asset_list)
            done["assets"] = asset_list
        if market_events:
            await app.feed.subscribe_market_events()
            done["market_events"] = True
        if rtds is not None:
            await app.feed.subscribe_rtds(*rtds)
            done["rtds"] = rtds
        if sports:
            await app.feed.subscribe_sports()
            done["sports"] = True
        if user_markets is not None:
            # User channel (issue 4): condition ids; an empty list means every market of the account.
            markets = list(dict.fromkeys(condition_key(m) for m in user_markets))
            await app.feed.subscribe_user_markets(markets)
            done["user_markets"] = markets
            sub.meta["feed"]["user_markets"] = markets
        keys = list(dict.fromkeys(reference))
        if keys:
            # PolyBolt reference prices: "crypto:btcusd"-style keys; AuthError without credentials.
            await app.feed.subscribe_reference_prices(keys)
            done["reference"] = keys
            sub.meta["feed"]["reference"] = keys
    except BaseException:
        # Release exactly what succeeded (the feed is ref-counted), then report the failure.
        app.router.remove(sub_id)
        sub.meta["feed"] = done
        with anyio.CancelScope(shield=True):
            await _release(app, sub, strict=False)
        raise
    app.notifier.status_changed()
    log.info("subscription %s (%s) created: %d tokens", sub_id, kind, len(sub.token_ids))
    return sub


async def remove_subscription(app: Application, subscription_id: str) -> Subscription:
    sub = app.router.remove(subscription_id)
    await _release(app, sub, strict=True)
    app.notifier.status_changed()
    log.info("subscription %s removed", subscription_id)
    return sub


async def _release(app: Application, sub: Subscription, *, strict: bool) -> None:
    feed_meta = sub.meta.get("feed") or {}
    try:
        user_markets = feed_meta.get("user_markets")
        if user_markets is not None:
            await app.feed.unsubscribe_user_markets(user_markets)
        reference = feed_meta.get("reference")
        if reference:
            await app.feed.unsubscribe_reference_prices(reference)
        if feed_meta.get("sports"):
            await app.feed.unsubscribe_sports()
        rtds = feed_meta.get("rtds")
        if rtds:
            await app.feed.unsubscribe_rtds(*rtds)
        if feed_meta.get("market_events"):
            await app.feed.unsubscribe_market_events()
        assets = feed_meta.get("assets") or []
        if assets:
            await app.feed.unsubscribe_assets(assets)
    except Exception:
        if strict:
            raise
        log.debug("feed release after a failed subscribe", exc_info=True)
