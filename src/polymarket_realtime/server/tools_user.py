"""Toolset ``user``: watch the account's own orders and trades, read-only. No tool places or cancels.

* ``subscribe_user_orders`` / ``subscribe_user_trades`` open (or share) the authenticated user socket and
  return a subscription read with ``get_events`` exactly like the market subscriptions.
* ``get_user_trade(trade_id)`` folds every ``trade`` frame of one trade id into its latest status and
  the full status history (MATCHED -> MINED -> CONFIRMED, or RETRYING / FAILED).
* ``get_open_orders`` / ``get_recent_trades`` read ``/data/orders`` and ``/data/trades`` (L2-signed).
* ``diagnose_connection`` runs the ``doctor`` checks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from ..app.root import Application
from ..app.user import UserService
from ..app.user_subscriptions import condition_ids, subscribe_user
from ..app.validation import check_limit
from ..diagnostics.doctor import diagnose
from ..model.timeunits import parse_ts_ms
from ..routing.router import Subscription
from ..venues.polymarket.schemas import WireOrder, WireTrade
from .annotations import CREATE as _SUBSCRIBE, READ_LOCAL as _READ_LOCAL, READ_VENUE as _READ_VENUE
from .context import app_context

__all__ = ["register"]


_FOLLOW_UP = "Then get_events(subscription_id, after_seq=0, wait_s=10), passing after_seq=next_seq each time."

MarketIds = Annotated[
    list[str],
    Field(description="Condition ids (0x + 62 or 64 hex) or market slugs; empty = every market of the account."),
]
CallbackType = Literal["notification", "log"]


class UserSubscriptionResult(BaseModel):
    subscription_id: str = Field(description="Pass to get_events / unsubscribe_realtime.")
    kind: str = Field(description="user_orders | user_trades")
    market_ids: list[str] = Field(description="Condition ids watched; empty = all markets of the account.")
    status: str = Field(
        description="The user socket after its first attempt was answered (waited for, briefly): 'active' "
        "(credentials accepted; events arrive as they happen), 'rejected' (the venue refused these credentials, "
        "see detail; it retries with backoff), 'retrying' (the attempt failed otherwise, see detail) or "
        "'connecting' (no answer yet)."
    )
    detail: str = Field(default="", description="Unless 'active': what is wrong and what to do.")
    address: str | None = Field(description="Signer address the credentials belong to.")
    credentials: str | None = Field(description="Where the API credentials came from: env, file or derived.")
    credentials_file: str | None = Field(
        default=None,
        description="With credentials 'file' or 'derived': the file (mode 0600) holding them; delete it to force "
        "a fresh derivation. The secret itself is never shown.",
    )
    next_step: str


class UserTradeResult(BaseModel):
    trade_id: str
    status: str = Field(description="Latest status: MATCHED, MINED, CONFIRMED (final), RETRYING or FAILED (final).")
    final: bool = Field(description="True once CONFIRMED or FAILED.")
    market: str
    asset_id: str
    side: str = Field(description="Taker side BUY/SELL.")
    trader_side: str = Field(description="TAKER or MAKER: your role in the trade.")
    outcome: str
    price: str
    size: str
    transaction_hash: str
    match_time_ms: int
    updated_ms: int
    history: list[dict[str, Any]] = Field(description="[{status, ts_ms, recv_ms, transaction_hash}] oldest first.")


class OpenOrder(BaseModel):
    order_id: str
    status: str
    market: str
    asset_id: str
    side: str
    price: str
    original_size: str
    size_matched: str
    outcome: str = ""
    order_type: str = ""
    created_at_ms: int = 0
    expiration: str = ""


class OpenOrdersResult(BaseModel):
    count: int
    orders: list[OpenOrder]


class RecentTrade(BaseModel):
    trade_id: str
    status: str = Field(description="MATCHED, MINED, CONFIRMED, RETRYING or FAILED (TRADE_STATUS_ prefix removed).")
    market: str
    asset_id: str
    side: str
    trader_side: str = ""
    outcome: str = ""
    price: str
    size: str
    fee_rate_bps: str = ""
    match_time_ms: int = 0
    transaction_hash: str = ""


class RecentTradesResult(BaseModel):
    count: int
    trades: list[RecentTrade]


class DiagnosticCheck(BaseModel):
    name: str
    status: Literal["ok", "warn", "fail", "skip"]
    detail: str
    fix: str = Field(description="What to do when the check is not ok (empty when ok).")


class DiagnosisResult(BaseModel):
    ok: bool = Field(description="False when any check failed.")
    address: str | None
    clock_skew_s: float | None = Field(description="Server time minus local time, seconds (positive = we are behind).")
    checks: list[DiagnosticCheck]
    credentials: dict[str, Any] = Field(
        default_factory=dict,
        description="Credential state: configured, address, chain_id, source (env/file/derived), api_key (masked), "
        "credentials_file (where derived credentials are kept), derivations, tracked_trades; never a secret.",
    )
    user_channel: str | None = Field(
        default=None, description="Why the user socket cannot authenticate (with advice), if it cannot."
    )


def _service(app: Application) -> UserService:
    return app.require_user()


def _sub_result(app: Application, sub: Subscription) -> UserSubscriptionResult:
    manager, _ = _service(app).require()
    status, detail = app.feed.user_channel_state()
    path = manager.file_path if manager.source in ("file", "derived") else None
    return UserSubscriptionResult(
        subscription_id=sub.subscription_id,
        kind=sub.kind,
        market_ids=sorted(sub.meta.get("condition_ids", ())),
        status=status,
        detail=detail,
        address=manager.address,
        credentials=manager.source,
        credentials_file=str(path) if path is not None else None,
        next_step=_FOLLOW_UP,
    )


def _text(value: object) -> str:
    return "" if value is None or value == "" else str(value)


def _order(order: WireOrder) -> OpenOrder:
    return OpenOrder(
        order_id=order.id,
        status=order.status,
        market=order.market,
        asset_id=order.asset_id,
        side=order.side,
        price=str(order.price),
        original_size=str(order.original_size),
        size_matched=str(order.size_matched),
        outcome=order.outcome,
        order_type=order.order_type,
        created_at_ms=parse_ts_ms(order.created_at),
        expiration=_text(order.expiration),
    )


def _trade(trade: WireTrade) -> RecentTrade:
    return RecentTrade(
        trade_id=trade.id,
        status=trade.status.removeprefix("TRADE_STATUS_"),
        market=trade.market,
        asset_id=trade.asset_id,
        side=trade.side,
        trader_side=trade.trader_side,
        outcome=trade.outcome,
        price=str(trade.price),
        size=str(trade.size),
        fee_rate_bps=_text(trade.fee_rate_bps),
        match_time_ms=parse_ts_ms(_text(trade.match_time) or _text(trade.matchtime) or None),
        transaction_hash=_text(trade.transaction_hash),
    )


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Subscribe to your own orders",
        annotations=_SUBSCRIBE,
        description=(
            "Stream YOUR account's order events (authenticated user channel, read-only). Needs POLYGON_PRIVATE_KEY "
            "or POLYMARKET_API_KEY/SECRET/PASSPHRASE. Events: user_order, action PLACEMENT, UPDATE (size_matched "
            "grows) or CANCELLATION, with side, price, original_size, size_matched, status. " + _FOLLOW_UP
        ),
    )
    async def subscribe_user_orders(
        ctx: Context[Application],
        market_ids: MarketIds = [],  # noqa: B006  # the schema default; never mutated
        callback_type: CallbackType = "notification",
    ) -> UserSubscriptionResult:
        app = app_context(ctx)
        return _sub_result(app, await subscribe_user(app, "user_orders", market_ids, callback_type))

    @mcp.tool(
        title="Subscribe to your own trades",
        annotations=_SUBSCRIBE,
        description=(
            "Stream YOUR account's fills from the authenticated user channel (read-only). Each trade id is "
            "reported several times as it settles: status MATCHED -> MINED -> CONFIRMED (final), or RETRYING / "
            "FAILED (final). Events have type user_trade (trade_id, side, price, size, status, trader_side "
            "TAKER/MAKER). get_user_trade(trade_id) returns the latest status and the whole history. " + _FOLLOW_UP
        ),
    )
    async def subscribe_user_trades(
        ctx: Context[Application],
        market_ids: MarketIds = [],  # noqa: B006  # the schema default; never mutated
        callback_type: CallbackType = "notification",
    ) -> UserSubscriptionResult:
        app = app_context(ctx)
        return _sub_result(app, await subscribe_user(app, "user_trades", market_ids, callback_type))

    @mcp.tool(
        title="One trade's status and history",
        annotations=_READ_LOCAL,
        description=(
            "Latest status and status history of one of your trades seen on the user channel since "
            "subscribe_user_trades: {status, final, history: [{status, ts_ms, recv_ms, transaction_hash}], price, "
            "size, side, trader_side}. For trades from before the subscription use get_recent_trades."
        ),
    )
    async def get_user_trade(
        ctx: Context[Application],
        trade_id: Annotated[str, Field(description="The trade id (the `trade_id` of a user_trade event).")],
    ) -> UserTradeResult:
        record = _service(app_context(ctx)).trades.get(trade_id.strip())
        return UserTradeResult(**record.to_dict())

    @mcp.tool(
        title="Your open orders",
        annotations=_READ_VENUE,
        description=(
            "Your account's open orders from Polymarket (GET /data/orders, L2-authenticated, read-only), optionally "
            "for one market (condition id or slug). Prices in USDC per share, sizes in shares, as decimal strings."
        ),
    )
    async def get_open_orders(
        ctx: Context[Application],
        market_id: Annotated[str, Field(description="Condition id or slug; empty = every market.")] = "",
    ) -> OpenOrdersResult:
        app = app_context(ctx)
        _, rest = _service(app).require()
        market = (await condition_ids(app, [market_id]))[0] if market_id.strip() else None
        orders = await rest.open_orders(market=market)
        return OpenOrdersResult(count=len(orders), orders=[_order(o) for o in orders])

    @mcp.tool(
        title="Your recent trades",
        annotations=_READ_VENUE,
        description=(
            "Your account's most recent trades from Polymarket (GET /data/trades, L2-authenticated, read-only), "
            "newest first, optionally for one market (condition id or slug)."
        ),
    )
    async def get_recent_trades(
        ctx: Context[Application],
        market_id: Annotated[str, Field(description="Condition id or slug; empty = every market.")] = "",
        limit: Annotated[int, Field(description="Maximum trades, 1-500.")] = 50,
    ) -> RecentTradesResult:
        app = app_context(ctx)
        check_limit(limit, maximum=500)
        _, rest = _service(app).require()
        market = (await condition_ids(app, [market_id]))[0] if market_id.strip() else None
        trades = await rest.recent_trades(market=market, limit=limit)
        return RecentTradesResult(count=len(trades), trades=[_trade(t) for t in trades])

    @mcp.tool(
        title="Diagnose the Polymarket connection",
        annotations=_READ_VENUE,
        description=(
            "Check what works: CLOB REST, Gamma, the market/user/RTDS/sports sockets, clock skew against the server, "
            "whether POLYGON_PRIVATE_KEY matches POLYGON_ADDRESS, whether the API credentials authenticate, and "
            "signature type / funder sanity. Each check is ok/warn/fail/skip with one sentence on what to do."
        ),
    )
    async def diagnose_connection(ctx: Context[Application]) -> DiagnosisResult:
        app = app_context(ctx)
        service = _service(app)
        report = await diagnose(app.settings, credentials=service.credentials, http=service.http, clock=app.clock)
        return DiagnosisResult(
            ok=report.ok,
            address=report.address,
            clock_skew_s=report.clock_skew_s,
            checks=[DiagnosticCheck(name=c.name, status=c.status, detail=c.detail, fix=c.fix) for c in report.checks],
            credentials=service.status(),
            user_channel=app.feed.user_auth_problem(),
        )
