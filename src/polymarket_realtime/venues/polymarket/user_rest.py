"""Read-only, L2-authenticated account endpoints: the user's open orders and trades.

``GET /data/orders`` and ``GET /data/trades`` page with ``next_cursor`` (first ``"MA=="``, last
``"LTE="``). The query string is not signed (docs/polymarket-protocol.md#auth-l2). On HTTP 401 the credentials are
re-derived once (:meth:`CredentialManager.get` with ``refresh=True``) and the page retried; a second 401 raises
:class:`~polymarket_realtime.errors.AuthError`. Nothing here places or cancels orders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import httpx2
import msgspec

from ...errors import VenueError, VenueUnavailableError
from ...model.timeunits import parse_ts_ms
from .credentials import CredentialManager, rejected_error
from .schemas import WireOrder, WireTrade

__all__ = ["END_CURSOR", "INITIAL_CURSOR", "UserRestClient", "order_from_row", "trade_from_row"]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

INITIAL_CURSOR: Final = "MA=="
END_CURSOR: Final = "LTE="
ORDERS_PATH: Final = "/data/orders"
TRADES_PATH: Final = "/data/trades"


class UserRestClient:
    """Account reads on the CLOB host. ``http`` is owned by the caller (enter it on an exit stack)."""

    def __init__(self, clob_url: str, credentials: CredentialManager, http: httpx2.AsyncClient, *, max_pages: int = 50):
        self._base = clob_url.rstrip("/")
        self._creds = credentials
        self._http = http
        self._max_pages = max_pages
        self.requests = 0
        self.rederivations = 0

    async def get_open_orders(self, *, market: str | None = None, asset_id: str | None = None) -> list[dict[str, Any]]:
        """Every open order (all pages), optionally for one condition id or token id."""
        params = {k: v for k, v in (("market", market), ("asset_id", asset_id)) if v}
        return await self._paged(ORDERS_PATH, params, limit=None)

    async def get_trades(
        self, *, market: str | None = None, limit: int = 50, after: int | None = None
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` most recent trades (newest first by ``match_time``), optionally matched after
        ``after`` (Unix seconds). ``maker_address`` is sent when the signer address is known (the venue's
        OpenAPI marks it required)."""
        params = {"market": market} if market else {}
        if after is not None:
            params["after"] = str(max(0, int(after)))
        if self._creds.address:
            params["maker_address"] = self._creds.address
        trades = await self._paged(TRADES_PATH, params, limit=limit)
        trades.sort(key=_match_time, reverse=True)
        return trades[:limit]

    async def open_orders(self, *, market: str | None = None) -> list[WireOrder]:
        """:meth:`get_open_orders` parsed into the user socket's order struct (unreadable rows skipped, logged)."""
        return _parsed(await self.get_open_orders(market=market), order_from_row, ORDERS_PATH)

    async def recent_trades(
        self, *, market: str | None = None, limit: int = 50, after: int | None = None
    ) -> list[WireTrade]:
        """:meth:`get_trades` parsed into the user socket's trade struct (unreadable rows skipped, logged)."""
        return _parsed(await self.get_trades(market=market, limit=limit, after=after), trade_from_row, TRADES_PATH)

    async def order(self, order_id: str) -> WireOrder | None:
        """:meth:`get_order` parsed into the user socket's order struct (None if unknown or unreadable)."""
        row = await self.get_order(order_id)
        return None if row is None else next(iter(_parsed([row], order_from_row, ORDERS_PATH)), None)

    async def get_order(self, order_id: str) -> dict[str, Any] | None:
        """One order by id whatever its status (canceled and fully matched ones included); None if unknown."""
        rows = await self._paged(ORDERS_PATH, {"id": order_id}, limit=1)
        return next((r for r in rows if str(r.get("id") or r.get("order_id") or "") == order_id), None)

    async def check(self) -> int:
        """One authenticated request (first page of open orders); returns the HTTP status. For diagnostics."""
        await self._get(ORDERS_PATH, {"next_cursor": INITIAL_CURSOR})
        return 200

    async def _paged(self, path: str, params: dict[str, str], *, limit: int | None) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        cursor = INITIAL_CURSOR
        for _ in range(self._max_pages):
            body = await self._get(path, {**params, "next_cursor": cursor})
            if isinstance(body, list):  # tolerate an unpaged answer
                results.extend(x for x in body if isinstance(x, dict))
                break
            if not isinstance(body, dict):
                raise VenueError(f"GET {path} returned an unexpected body", url=self._base + path)
            data = body.get("data") or []
            results.extend(x for x in data if isinstance(x, dict))
            cursor = str(body.get("next_cursor") or END_CURSOR)
            if cursor == END_CURSOR or not data or (limit is not None and len(results) >= limit):
                break
        else:
            logger.warning("GET %s: stopped after %d pages", path, self._max_pages)
        return results

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        url = self._base + path
        response = await self._send(url, path, params, refresh=False)
        if response.status_code == 401:
            # Expired or revoked credentials: re-derive once, then give up with a clear message.
            self.rederivations += 1
            logger.warning("GET %s answered 401; re-deriving API credentials once", path)
            response = await self._send(url, path, params, refresh=True)
            if response.status_code == 401:
                raise rejected_error(self._creds.source or "derived", status=401, url=url)
        if response.status_code != 200:
            raise VenueError(
                f"GET {path} failed with HTTP {response.status_code}", status=response.status_code, url=url
            )
        try:
            return response.json()
        except ValueError:
            raise VenueError(f"GET {path} returned invalid JSON", url=url) from None

    async def _send(self, url: str, path: str, params: dict[str, str], *, refresh: bool) -> httpx2.Response:
        headers = await self._creds.auth_headers("GET", path, refresh=refresh)
        self.requests += 1
        try:
            return await self._http.get(url, params=params, headers=headers)
        except httpx2.TransportError as exc:
            raise VenueUnavailableError(f"could not reach {url}: {type(exc).__name__}", url=url) from None


def _match_time(trade: dict[str, Any]) -> int:
    return parse_ts_ms(trade.get("match_time") or trade.get("matchtime") or trade.get("last_update"))


def _present(row: Mapping[str, Any]) -> dict[str, Any]:
    # REST rows carry explicit nulls where the socket omits a key; drop them so the struct defaults apply.
    fields = {k: v for k, v in row.items() if v is not None and k != "event_type"}
    # Tolerated rather than dropped: a row without its market (null) and a lowercase side ("buy").
    fields["market"] = str(row.get("market") or "")
    if isinstance(fields.get("side"), str):
        fields["side"] = fields["side"].upper()
    return fields


def order_from_row(row: Mapping[str, Any]) -> WireOrder:
    """A ``/data/orders`` row as the socket's :class:`WireOrder` (the id may be under ``order_id``; a
    missing ``size_matched`` is 0; ``ORDER_STATUS_LIVE`` is spelled ``LIVE`` like the socket's statuses).
    Raises ``msgspec.ValidationError`` for a row missing a required field."""
    fields = _present(row)
    fields["id"] = str(row.get("id") or row.get("order_id") or "")
    if fields.get("size_matched") in (None, ""):
        fields["size_matched"] = "0"
    if "status" in fields:
        fields["status"] = str(fields["status"]).removeprefix("ORDER_STATUS_")
    return msgspec.convert({**fields, "event_type": "order"}, WireOrder, strict=False)


def trade_from_row(row: Mapping[str, Any]) -> WireTrade:
    """A ``/data/trades`` row as the socket's :class:`WireTrade` (the id may be under ``trade_id``)."""
    fields = _present(row)
    fields["id"] = str(row.get("id") or row.get("trade_id") or "")
    return msgspec.convert({**fields, "event_type": "trade"}, WireTrade, strict=False)


def _parsed(rows: list[dict[str, Any]], parse: Callable[[Mapping[str, Any]], _T], path: str) -> list[_T]:
    out: list[_T] = []
    for row in rows:
        try:
            out.append(parse(row))
        except msgspec.ValidationError as exc:
            logger.warning("GET %s: skipped an unreadable row (%s)", path, exc)
    return out
