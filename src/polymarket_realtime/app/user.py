"""The user account service: the account's own orders and trades (read-only), credentials and diagnostics.

:class:`UserService` is started by :func:`~polymarket_realtime.app.services.start_user` (``user`` toolset).
It owns the HTTP client for the account endpoints, the
:class:`~polymarket_realtime.venues.polymarket.credentials.CredentialManager`, the
:class:`~polymarket_realtime.venues.polymarket.user_rest.UserRestClient` and a :class:`TradeTracker`,
and installs the credentials provider of the feed's user socket. Nothing is fetched at start-up: the
first user subscription (or REST tool) derives credentials, so a server without keys starts normally
and its user tools answer with a clear error naming the variables to set.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

import httpx2

from ..auth.l2 import ApiCredentials
from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import AuthError, NotFoundError
from ..model.events import UserTrade
from ..venues.polymarket.credentials import CredentialManager
from ..venues.polymarket.user_rest import UserRestClient

__all__ = ["TERMINAL_TRADE_STATUSES", "TradeRecord", "TradeTracker", "UserService"]

logger = logging.getLogger(__name__)

TERMINAL_TRADE_STATUSES: Final = frozenset({"CONFIRMED", "FAILED"})
_TRACKED_TRADES: Final = 2000


@dataclass(slots=True)
class TradeRecord:
    """One logical trade (one venue ``id``) and every status it went through, oldest first."""

    trade_id: str
    market: str
    asset_id: str
    side: str
    price: str
    size: str
    outcome: str
    trader_side: str
    status: str
    history: list[dict[str, Any]] = field(default_factory=list)
    transaction_hash: str = ""
    match_time_ms: int = 0
    updated_ms: int = 0

    @property
    def final(self) -> bool:
        return self.status in TERMINAL_TRADE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id,
            "status": self.status,
            "final": self.final,
            "market": self.market,
            "asset_id": self.asset_id,
            "side": self.side,
            "trader_side": self.trader_side,
            "outcome": self.outcome,
            "price": self.price,
            "size": self.size,
            "transaction_hash": self.transaction_hash,
            "match_time_ms": self.match_time_ms,
            "updated_ms": self.updated_ms,
            "history": list(self.history),
        }


class TradeTracker:
    """Folds the user channel's ``trade`` frames into one :class:`TradeRecord` per trade id.

    Fed synchronously from the user-trade subscriptions' ``on_event`` (the same event object may reach
    several subscriptions: it is counted once). A repeated frame with the same status and update time
    adds no history entry; a non-terminal status arriving after CONFIRMED/FAILED is recorded in the
    history but does not replace the terminal status. The oldest trades are forgotten beyond ``capacity``.
    """

    def __init__(self, capacity: int = _TRACKED_TRADES) -> None:
        self._capacity = capacity
        self._trades: OrderedDict[str, TradeRecord] = OrderedDict()
        self._last_event: dict[str, UserTrade] = {}
        self.observed = 0

    def observe(self, event: UserTrade) -> TradeRecord:
        record = self._trades.get(event.trade_id)
        if record is not None and self._last_event.get(event.trade_id) is event:
            return record
        self._last_event[event.trade_id] = event
        self.observed += 1
        updated_ms = event.last_update_ms or event.ts_event_ms or event.match_time_ms
        step = {
            "status": event.status,
            "ts_ms": updated_ms,
            "recv_ms": event.ts_recv_ns // 1_000_000,
            "transaction_hash": event.transaction_hash,
        }
        if record is None:
            record = TradeRecord(
                trade_id=event.trade_id,
                market=event.market,
                asset_id=event.asset_id,
                side=event.side,
                price=format(event.price, "f"),
                size=format(event.size, "f"),
                outcome=event.outcome,
                trader_side=event.trader_side,
                status=event.status,
                match_time_ms=event.match_time_ms,
            )
            self._trades[event.trade_id] = record
            while len(self._trades) > self._capacity:
                old, _ = self._trades.popitem(last=False)
                self._last_event.pop(old, None)
        else:
            last = record.history[-1] if record.history else None
            if last is not None and last["status"] == event.status and last["ts_ms"] == updated_ms:
                return record
            if not (record.final and event.status not in TERMINAL_TRADE_STATUSES):
                record.status = event.status
        record.history.append(step)
        record.updated_ms = max(record.updated_ms, updated_ms)
        if event.transaction_hash:
            record.transaction_hash = event.transaction_hash
        return record

    def get(self, trade_id: str) -> TradeRecord:
        record = self._trades.get(trade_id)
        if record is None:
            raise NotFoundError(
                f"No trade {trade_id!r} seen on the user channel yet (trades appear after subscribe_user_trades; "
                "use get_recent_trades for older ones).",
                known=list(reversed(self._trades))[:20],
            )
        return record

    def recent(self, limit: int = 50) -> list[TradeRecord]:
        return list(reversed(self._trades.values()))[:limit]

    def __len__(self) -> int:
        return len(self._trades)


class UserService:
    """Credentials, account REST reads and the trade tracker for the MCP tools."""

    def __init__(self, settings: Settings, http: httpx2.AsyncClient, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self._clock = clock
        self.http = http
        self.trades = TradeTracker()
        self.setup_error: AuthError | None = None
        try:
            self.credentials: CredentialManager | None = CredentialManager(settings, http=http, clock=clock)
        except AuthError as exc:
            # A wrong POLYGON_ADDRESS must not stop the market-data server: the user tools report it.
            self.credentials = None
            self.setup_error = exc
            logger.warning("user channel disabled: %s", exc)
        self.rest = UserRestClient(settings.clob_url, self.credentials, http) if self.credentials else None

    def require(self) -> tuple[CredentialManager, UserRestClient]:
        """The credential manager and REST client, or the documented :class:`AuthError`."""
        if self.setup_error is not None:
            raise self.setup_error
        assert self.credentials is not None and self.rest is not None
        self.credentials.require_configured()
        return self.credentials, self.rest

    async def provide(self, refresh: bool) -> ApiCredentials:
        """The feed's user-socket credentials provider (``refresh`` after a rejected connection)."""
        manager, _ = self.require()
        if refresh and manager.signer is not None:
            logger.warning("user channel rejected the credentials; re-deriving them once")
        elif refresh:
            logger.warning(
                "user channel rejected the POLYMARKET_API_* credentials (no POLYGON_PRIVATE_KEY to re-derive)"
            )
        return await manager.get(refresh=refresh)

    def on_trade(self, event: UserTrade) -> None:
        self.trades.observe(event)

    def status(self) -> dict[str, Any]:
        if self.setup_error is not None:
            return {"configured": False, "error": str(self.setup_error)}
        assert self.credentials is not None
        return {
            **self.credentials.status(),
            "tracked_trades": len(self.trades),
            "time": self._clock.time_ns() // 1_000_000_000,
        }
