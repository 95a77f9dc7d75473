"""Server-pushed MCP notifications for both protocol eras, without ever slowing the feed.

* **Modern era** (2026-07-28, ``subscriptions/listen``): ``ResourceUpdated(uri)`` is published on the
  SDK's :class:`InMemorySubscriptionBus`, which the server streams to listening clients.
* **Legacy era** (``initialize`` handshake; Claude Desktop, Inspector): the SDK has no public API for
  ``resources/subscribe``, ``resources/unsubscribe`` or ``logging/setLevel``, so :func:`install_legacy_handlers`
  registers them through the private ``MCPServer._lowlevel_server`` (the SDK's documented workaround).
  Sessions are captured on ``notifications/initialized`` and on those requests; updates go out with
  ``session.send_resource_updated`` and, for ``callback_type="notification"`` subscriptions, one
  ``notifications/message`` per event carrying ``{subscription_id, seq, type, token_id, summary}``.
  ``tests/integration/test_mcp_notify.py`` pins these private uses so an SDK bump fails loudly.

Back-pressure: the router calls :meth:`Notifier.on_subscription_event` synchronously; it only marks a URI
dirty and appends to a bounded deque (full = drop and count). One sender task per server does all the
awaiting: resource updates are coalesced to at most one per URI per ``min_interval_s`` (0.1 s = 10/s),
and every send is bounded by a timeout, so a slow or vanished client loses notifications (counted),
never feed throughput. ``callback_type="log"`` subscriptions only write to the server log.
"""

from __future__ import annotations

import logging
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from mcp import MCPDeprecationWarning, types
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus

from ..app.root import Application
from ..clock import SYSTEM_CLOCK, Clock
from ..model.events import Event
from ..routing.eventlog import LogEntry

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.mcpserver import MCPServer
    from mcp.server.session import ServerSession

    from ..routing.router import Subscription
    from ..routing.sinks import Sink

__all__ = [
    "ACTIVITY_URI",
    "BOOK_URI",
    "STATUS_URI",
    "SUBSCRIPTION_URI",
    "Notifier",
    "event_summary",
    "install_legacy_handlers",
]

log = logging.getLogger(__name__)
events_log = logging.getLogger("polymarket_realtime.events")

# Logging is deprecated by SEP-2577 but is the only push legacy clients show; silence the warning
# for our own calls only.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning, module=__name__)

STATUS_URI = "polymarket://status"
ACTIVITY_URI = "polymarket://activity"
SUBSCRIPTION_URI = "polymarket://subscriptions/{subscription_id}"
BOOK_URI = "polymarket://book/{token_id}"

_LEVELS: dict[str, int] = {
    "debug": 10,
    "info": 20,
    "notice": 25,
    "warning": 30,
    "error": 40,
    "critical": 50,
    "alert": 60,
    "emergency": 70,
}


def event_summary(event: Event) -> str:
    """One short human line for an event (used in log notifications and the server log)."""
    etype = event.type
    token = getattr(event, "asset_id", "") or getattr(event, "market", "")
    short = f"{token[:10]}…" if len(token) > 12 else token
    if etype == "last_trade_price":
        side = getattr(event, "side", "") or ""
        return f"trade {short} {side} {getattr(event, 'size', '')} @ {getattr(event, 'price', '')}"
    if etype == "best_bid_ask":
        return f"bbo {short} {getattr(event, 'best_bid', None)} / {getattr(event, 'best_ask', None)}"
    if etype == "price_change":
        return f"price_change {short} bbo {getattr(event, 'best_bid', None)} / {getattr(event, 'best_ask', None)}"
    if etype == "book":
        return f"book {short} {len(getattr(event, 'bids', ()))} bids {len(getattr(event, 'asks', ()))} asks"
    if etype == "market_resolved":
        return f"resolved {short} winner {getattr(event, 'winning_outcome', '')}"
    if etype == "feed_status":
        return f"feed {getattr(event, 'channel', '')} {getattr(event, 'state', '')} {getattr(event, 'detail', '')}"
    if etype == "reference_price":
        return f"{getattr(event, 'channel', '')} {getattr(event, 'symbol', '')} {getattr(event, 'value', '')}"
    if etype == "crypto_price":
        return f"{getattr(event, 'symbol', '')} {getattr(event, 'value', '')}"
    if etype == "sports_score":
        teams = " v ".join(t for t in (getattr(event, "home_team", ""), getattr(event, "away_team", "")) if t)
        return " ".join(
            p
            for p in (
                getattr(event, "league", "") or getattr(event, "game_key", ""),
                teams,
                getattr(event, "score", ""),
                getattr(event, "period", ""),
                getattr(event, "status", ""),
            )
            if p
        )
    return f"{etype} {short}"


@dataclass(eq=False)
class _LegacySession:
    session: ServerSession
    uris: set[str] = field(default_factory=set)
    level: int = _LEVELS["info"]
    muted_until: float = 0.0
    """After a send timed out, skip this client until then, so it cannot hold the others up."""


@dataclass
class NotifierStats:
    resource_updates_sent: int = 0
    log_messages_sent: int = 0
    dropped: int = 0
    """Notifications lost: the queue was full or a client did not take them in time."""
    send_failures: int = 0
    slow_client_mutes: int = 0
    """Times a client was skipped for a while after a send to it timed out."""


class Notifier:
    """Fan-out of resource updates and log notifications to MCP clients (both eras)."""

    def __init__(
        self,
        bus: SubscriptionBus,
        *,
        capacity: int = 1000,
        min_interval_s: float = 0.1,
        send_timeout_s: float = 2.0,
        slow_client_mute_s: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._capacity = capacity
        self._min_interval_s = min_interval_s
        self._send_timeout_s = send_timeout_s
        self._slow_client_mute_s = slow_client_mute_s
        self._sessions: dict[int, _LegacySession] = {}
        self._dirty: dict[str, None] = {}
        self._messages: deque[dict[str, Any]] = deque()
        self._wake = anyio.Event()
        self.stats = NotifierStats()

    # --- sessions (legacy era) ------------------------------------------------------------------

    def _entry(self, session: ServerSession) -> _LegacySession:
        # A ServerSession is a per-request proxy; its connection is the stable identity (one per stdio
        # process, one per in-memory Client).
        key = id(getattr(session, "_connection", session))
        entry = self._sessions.get(key)
        if entry is None:
            entry = self._sessions[key] = _LegacySession(session)
        return entry

    def capture(self, session: ServerSession) -> None:
        if session.protocol_version and session.protocol_version >= "2026":
            return  # modern connections are served through the bus
        self._entry(session)

    def subscribe(self, session: ServerSession, uri: str) -> None:
        self._entry(session).uris.add(uri)

    def unsubscribe(self, session: ServerSession, uri: str) -> None:
        self._entry(session).uris.discard(uri)

    def set_level(self, session: ServerSession, level: str) -> None:
        self._entry(session).level = _LEVELS.get(level, _LEVELS["info"])

    @property
    def legacy_sessions(self) -> int:
        return len(self._sessions)

    def close(self) -> None:
        self._sessions.clear()
        self._wake.set()

    # --- producers (synchronous, never block) ---------------------------------------------------

    def resource_changed(self, uri: str) -> None:
        if uri not in self._dirty:
            self._dirty[uri] = None
            self._wake.set()

    def status_changed(self) -> None:
        self.resource_changed(STATUS_URI)

    def activity_changed(self) -> None:
        self.resource_changed(ACTIVITY_URI)

    def on_subscription_event(self, sub: Subscription, entry: LogEntry) -> None:
        """``Subscription.on_event`` callback: runs inline in the router; O(1), never awaits."""
        event = entry.event
        if sub.callback_type == "log":
            # Log mode pushes nothing: the events go to the server log (and stay readable with get_events).
            if events_log.isEnabledFor(logging.INFO):
                events_log.info("%s #%d %s", sub.subscription_id, entry.seq, event_summary(event))
            return
        self.resource_changed(SUBSCRIPTION_URI.format(subscription_id=sub.subscription_id))
        if not self._sessions:
            return
        if len(self._messages) >= self._capacity:
            self.stats.dropped += 1
            return
        self._messages.append(
            {
                "subscription_id": sub.subscription_id,
                "seq": entry.seq,
                "type": event.type,
                "token_id": getattr(event, "asset_id", None),
                "summary": event_summary(event),
            }
        )
        self._wake.set()

    def push_message(self, data: dict[str, Any]) -> None:
        """Queue a ``notifications/message`` for legacy clients (e.g. a fired alert). O(1), never awaits."""
        if not self._sessions:
            return
        if len(self._messages) >= self._capacity:
            self.stats.dropped += 1
            return
        self._messages.append(data)
        self._wake.set()

    def on_feed_event(self, event: Event) -> None:
        """Book and status resources follow every routed event (fed from a router sink)."""
        asset = getattr(event, "asset_id", None)
        if asset is not None:
            self.resource_changed(BOOK_URI.format(token_id=asset))
        if event.type == "feed_status":
            self.resource_changed(STATUS_URI)

    # --- consumer task --------------------------------------------------------------------------

    async def drain_sink(self, sink: Sink) -> None:
        async for event in sink:
            self.on_feed_event(event)

    async def run(self) -> None:
        """Send queued notifications until cancelled. Start once in the server task group."""
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            while self._messages:
                await self._send_log(self._messages.popleft())
            if self._dirty:
                uris = list(self._dirty)
                self._dirty.clear()
                for uri in uris:
                    await self._send_updated(uri)
                # Coalescing window: updates to the same URI in the next interval go out as one.
                await anyio.sleep(self._min_interval_s)
                if self._dirty or self._messages:
                    self._wake.set()

    async def _send_updated(self, uri: str) -> None:
        try:
            await self._bus.publish(ResourceUpdated(uri=uri))
        except Exception:
            self.stats.send_failures += 1
            log.debug("bus publish failed for %s", uri, exc_info=True)
        for entry in list(self._sessions.values()):
            if uri not in entry.uris or self._muted(entry):
                continue
            # Counted before the send completes, so a client never sees more than the counter says;
            # a failed send is taken back out.
            self.stats.resource_updates_sent += 1
            if not await self._bounded(entry, entry.session.send_resource_updated(uri)):
                self.stats.resource_updates_sent -= 1

    async def _send_log(self, data: dict[str, Any]) -> None:
        for entry in list(self._sessions.values()):
            if entry.level > _LEVELS["info"] or self._muted(entry):
                continue
            self.stats.log_messages_sent += 1
            if not await self._bounded(
                entry, entry.session.send_log_message(level="info", data=data, logger="polymarket.events")
            ):
                self.stats.log_messages_sent -= 1

    def _muted(self, entry: _LegacySession) -> bool:
        if entry.muted_until and self._clock.monotonic() < entry.muted_until:
            self.stats.dropped += 1
            return True
        return False

    async def _bounded(self, entry: _LegacySession, send: Any) -> bool:
        try:
            with anyio.move_on_after(self._send_timeout_s) as scope:
                await send
            if scope.cancelled_caught:
                # A client that stopped reading: drop this and mute it for a while, so the queue behind
                # it (other clients, other URIs) does not wait send_timeout_s per notification.
                self.stats.dropped += 1
                self.stats.slow_client_mutes += 1
                entry.muted_until = self._clock.monotonic() + self._slow_client_mute_s
                return False
            return True
        except Exception:
            # A client that went away: drop, count, keep serving the others.
            self.stats.send_failures += 1
            log.debug("notification send failed", exc_info=True)
            return False


# --- legacy-era request handlers (private SDK API, pinned by tests) -----------------------------


def _notifier(ctx: ServerRequestContext[Any, Any]) -> Notifier | None:
    app = ctx.lifespan_context
    if not isinstance(app, Application):
        return None  # the server is still starting
    return app.notifier if isinstance(app.notifier, Notifier) else None


async def _on_subscribe(ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams) -> types.EmptyResult:
    notifier = _notifier(ctx)
    if notifier is not None:
        notifier.subscribe(ctx.session, str(params.uri))
    return types.EmptyResult()


async def _on_unsubscribe(
    ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
) -> types.EmptyResult:
    notifier = _notifier(ctx)
    if notifier is not None:
        notifier.unsubscribe(ctx.session, str(params.uri))
    return types.EmptyResult()


async def _on_set_level(ctx: ServerRequestContext[Any, Any], params: types.SetLevelRequestParams) -> types.EmptyResult:
    notifier = _notifier(ctx)
    if notifier is not None:
        notifier.set_level(ctx.session, str(params.level))
    return types.EmptyResult()


async def _on_initialized(ctx: ServerRequestContext[Any, Any], params: types.NotificationParams) -> None:
    notifier = _notifier(ctx)
    if notifier is not None:
        notifier.capture(ctx.session)


def install_legacy_handlers(mcp: MCPServer[Any]) -> None:
    """Register legacy ``resources/subscribe|unsubscribe``, ``logging/setLevel`` and session capture.

    Uses the private ``_lowlevel_server`` (no public API in mcp 2.3); raises ``RuntimeError`` if the SDK
    changed shape, so an upgrade fails at start-up instead of silently losing push.
    """
    low = getattr(mcp, "_lowlevel_server", None)
    if low is None or not hasattr(low, "add_request_handler") or not hasattr(low, "add_notification_handler"):
        raise RuntimeError("mcp SDK changed: MCPServer._lowlevel_server.add_request_handler is gone; update notify.py")
    low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, _on_subscribe)
    low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, _on_unsubscribe)
    low.add_request_handler("logging/setLevel", types.SetLevelRequestParams, _on_set_level)
    low.add_notification_handler("notifications/initialized", types.NotificationParams, _on_initialized)
