"""MCP resources: ``polymarket://status``, ``polymarket://subscriptions/{subscription_id}`` (recent
events) and ``polymarket://book/{token_id}`` (the streamed book). All JSON. Clients that subscribe get
``notifications/resources/updated`` (legacy era) or ``ResourceUpdated`` on ``subscriptions/listen``
(modern era) when they change, coalesced to at most ~10 per second per URI (see :mod:`.notify`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from ..app.market import book_result
from ..app.root import Application
from ..app.validation import check_token_id
from ..errors import PolymarketRealtimeError
from ..routing.eventlog import entry_to_dict
from ..secrets import redactor
from .context import app_context
from .notify import BOOK_URI, STATUS_URI, SUBSCRIPTION_URI
from .tools_realtime import build_status

__all__ = ["RECENT_EVENTS", "register"]

RECENT_EVENTS = 50


def register(mcp: MCPServer[Application], current_app: Callable[[], Application]) -> None:
    """``current_app`` returns the running Application (static resources get no request context)."""

    @mcp.resource(
        STATUS_URI,
        name="status",
        title="Real-time feed status",
        description="Connections, subscriptions and statistics (same shape as get_realtime_status).",
        mime_type="application/json",
    )
    def status() -> str:
        return build_status(current_app()).model_dump_json(indent=2)

    @mcp.resource(
        SUBSCRIPTION_URI,
        name="subscription",
        title="Recent events of a subscription",
        description=f"The last {RECENT_EVENTS} events of one subscription, oldest first, with its cursor.",
        mime_type="application/json",
    )
    def subscription(subscription_id: str, ctx: Context[Application]) -> str:
        app = app_context(ctx)
        try:
            sub = app.router.get(subscription_id)
        except PolymarketRealtimeError as exc:
            raise ResourceError(redactor.scrub(str(exc))) from exc
        entries = sub.log.latest(RECENT_EVENTS)
        body = {
            **sub.summary(app.clock.time_ns()),
            "last_seq": sub.log.last_seq,
            "events": [entry_to_dict(e) for e in entries],
        }
        return json.dumps(body, indent=2, default=str)

    @mcp.resource(
        BOOK_URI,
        name="book",
        title="Streamed order book",
        description="The live order book of a token we are subscribed to (top 20 levels per side).",
        mime_type="application/json",
    )
    def book(token_id: str, ctx: Context[Application]) -> str:
        app = app_context(ctx)
        try:
            token = check_token_id(token_id)
        except PolymarketRealtimeError as exc:
            raise ResourceError(str(exc)) from exc
        current = app.books.get(token)
        if current is None:
            raise ResourceError(
                f"no streamed book for token {token}: subscribe first (subscribe_orderbook_updates) or call "
                "get_order_book for a one-off snapshot"
            )
        return book_result(token, current.view(20, app.clock.time_ns())).model_dump_json(indent=2)
