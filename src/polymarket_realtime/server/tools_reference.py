"""Reference-price tools (PolyBolt): ``subscribe_reference_prices`` and its crypto shortcut.

Both make a subscription of kind ``reference_prices`` whose events are ``reference_price`` (one event type
for the four channels) plus ``feed_status`` of the PolyBolt sockets (``lossy`` when frames were lost,
``auth_failed`` with what to do about the credentials). PolyBolt needs the CLOB API credentials: without
them the tools fail with an error naming the variables to set, and nothing is subscribed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.reference import reference_keys, subscribe_reference
from ..app.root import Application
from ..venues.polymarket import polybolt as pb
from .annotations import CREATE as _SUBSCRIBE
from .context import app_context
from .results import SubscriptionResult

__all__ = ["register"]

ChannelArg = Literal["crypto", "equity", "crypto_twap", "equity_twap"]
_FOLLOW_UP = "Then get_events(subscription_id, after_seq=0, wait_s=10), passing after_seq=next_seq each time."
_EVENT_DOC = (
    "Events: reference_price {symbol, channel, value (decimal string), source, snapshot (history first), "
    "window_seconds}; feed_status lossy|auth_failed. Needs CLOB API credentials."
)


async def _subscribe(
    app: Application, keys: list[str], channel: str, provider: str | None, callback_type: str
) -> SubscriptionResult:
    from .tools_realtime import _sub_result  # the shared result builder; late import (circular)

    sub = await subscribe_reference(app, keys, channel, provider, callback_type=callback_type)
    return _sub_result(sub, feed=app.feed)


def register(mcp: MCPServer[Application]) -> None:
    @mcp.tool(
        title="Subscribe to reference prices (PolyBolt)",
        annotations=_SUBSCRIBE,
        description=(
            "Stream PolyBolt reference prices: crypto spot (btcusd), equity (stocks, ETFs, forex, metals: aapl, "
            "xauusd), crypto_twap / equity_twap (60 s TWAPs); 'BTC', 'btc/usd' accepted. "
            + _EVENT_DOC
            + " "
            + _FOLLOW_UP
        ),
    )
    async def subscribe_reference_prices(
        ctx: Context[Application],
        symbols: Annotated[list[str], Field(description="e.g. ['btcusd', 'ethusd'] or ['aapl']; empty = all.")],
        channel: Annotated[ChannelArg, Field(description="crypto | equity | crypto_twap | equity_twap")] = "crypto",
        provider: Annotated[
            Literal["chainlink", "pyth"] | None, Field(description="Equity channels only: pin the producer.")
        ] = None,
        callback_type: Annotated[
            Literal["notification", "log"], Field(description="'notification' (default) or 'log'.")
        ] = "notification",
    ) -> SubscriptionResult:
        app = app_context(ctx)
        keys = reference_keys(symbols, channel, provider)
        return await _subscribe(app, keys, channel, provider, callback_type)

    @mcp.tool(
        title="Subscribe to crypto prices (PolyBolt)",
        annotations=_SUBSCRIBE,
        description=(
            "Shortcut for subscribe_reference_prices(symbols, channel='crypto'): "
            + ", ".join(pb.SYMBOLS["crypto"])
            + " ('btc', 'btcusdt', 'btc/usd' = btcusd); empty = all. Needs CLOB API credentials. "
            + _FOLLOW_UP
        ),
    )
    async def subscribe_crypto_prices(
        ctx: Context[Application],
        symbols: Annotated[list[str], Field(description="e.g. ['btc', 'eth']; empty = all symbols.")] = [],  # noqa: B006
        callback_type: Annotated[
            Literal["notification", "log"], Field(description="'notification' (default) or 'log'.")
        ] = "notification",
    ) -> SubscriptionResult:
        app = app_context(ctx)
        keys = reference_keys(symbols, "crypto", None)
        return await _subscribe(app, keys, "crypto", None, callback_type)
