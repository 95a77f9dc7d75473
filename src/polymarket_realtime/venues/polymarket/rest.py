"""CLOB REST client (public, unauthenticated endpoints): book snapshots, prices, server time.

Used to pair the streams with snapshots (docs/polymarket-protocol.md#clob-rest): ``POST /books`` rebuilds books after a
reconnect when no ``book`` arrives over the socket in time, and resyncs crossed books. Books come back as
:class:`~polymarket_realtime.model.events.BookSnapshot` with ``source="rest"`` and levels **best-first**
(the venue sends bids ascending and asks descending whatever its OpenAPI says, so we sort).

Errors: unreachable endpoint or timeout -> :class:`VenueUnavailableError`; an error status or an
unparseable body -> :class:`VenueError`; both carry the URL and status. ``GET /book`` for an unknown
token -> :class:`NotFoundError`. Gamma lives in :mod:`.gamma`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

import httpx2
import msgspec

from ...clock import SYSTEM_CLOCK, Clock
from ...config import Settings
from ...errors import InvalidInputError, NotFoundError, VenueError, VenueUnavailableError
from ...model.events import BookSnapshot, Level
from ...model.numbers import opt_decimal
from ...model.timeunits import parse_ts_ms
from .ratelimit import RateLimitedTransport

__all__ = ["BOOKS_CHUNK", "ClobRestClient", "book_from_rest"]

BOOKS_CHUNK = 100
"""Token ids per ``POST /books`` request (keeps bodies small and inside the rate-limit budget)."""


class _RestLevel(msgspec.Struct, frozen=True):
    price: Decimal
    size: Decimal


class _RestBook(msgspec.Struct, frozen=True):
    asset_id: str
    market: str = ""
    bids: list[_RestLevel] = []
    asks: list[_RestLevel] = []
    timestamp: str | int = 0
    hash: str = ""
    tick_size: str | None = None
    min_order_size: str | None = None
    last_trade_price: str | None = None


_book_decoder = msgspec.json.Decoder(_RestBook)
_books_decoder = msgspec.json.Decoder(list[_RestBook] | None)


def book_from_rest(raw: _RestBook, ts_recv_ns: int) -> BookSnapshot:
    bids = sorted((Level(lv.price, lv.size) for lv in raw.bids), key=lambda lv: lv.price, reverse=True)
    asks = sorted((Level(lv.price, lv.size) for lv in raw.asks), key=lambda lv: lv.price)
    return BookSnapshot(
        ts_event_ms=parse_ts_ms(raw.timestamp),
        ts_recv_ns=ts_recv_ns,
        asset_id=raw.asset_id,
        market=raw.market,
        bids=tuple(bids),
        asks=tuple(asks),
        hash=raw.hash,
        tick_size=opt_decimal(raw.tick_size),
        min_order_size=opt_decimal(raw.min_order_size),
        last_trade_price=opt_decimal(raw.last_trade_price),
        source="rest",
    )


class ClobRestClient:
    """Async client for the CLOB's public REST endpoints. Use as ``async with`` or call :meth:`aclose`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.base_url = settings.clob_url.rstrip("/")
        self._client = httpx2.AsyncClient(
            base_url=self.base_url,
            timeout=settings.http_timeout_s,
            # Every CLOB client of the process shares the per-IP rate-limit windows (see .ratelimit).
            transport=RateLimitedTransport("clob", self.base_url, inner=transport),
            headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> ClobRestClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        url = self.base_url + path
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx2.TimeoutException as exc:
            raise VenueUnavailableError(f"CLOB {method} {url} timed out", url=url) from exc
        except httpx2.TransportError as exc:
            raise VenueUnavailableError(f"CLOB {method} {url} unreachable: {type(exc).__name__}", url=url) from exc
        if response.status_code >= 400:
            detail = response.text[:200]
            if response.status_code >= 500:
                raise VenueUnavailableError(
                    f"CLOB {method} {url} answered {response.status_code}: {detail}",
                    status=response.status_code,
                    url=url,
                )
            raise VenueError(
                f"CLOB {method} {url} answered {response.status_code}: {detail}", status=response.status_code, url=url
            )
        return response

    async def get_book(self, token_id: str) -> BookSnapshot:
        """``GET /book``: one token's full book (best-first levels, ``source="rest"``)."""
        _check_token(token_id)
        try:
            response = await self._request("GET", "/book", params={"token_id": token_id})
        except VenueError as exc:
            if exc.status == 404:
                raise NotFoundError(
                    f"No order book exists for token id {token_id} (unknown or closed market). "
                    "Use get_market to find the market's current token ids."
                ) from exc
            raise
        try:
            raw = _book_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise VenueError(
                f"CLOB GET {response.url} returned an unreadable book: {exc}", url=str(response.url)
            ) from exc
        return book_from_rest(raw, self._clock.time_ns())

    async def get_books(self, token_ids: Sequence[str]) -> list[BookSnapshot]:
        """``POST /books`` in chunks of :data:`BOOKS_CHUNK`; unknown tokens are simply absent."""
        books: list[BookSnapshot] = []
        ids = list(dict.fromkeys(token_ids))
        for start in range(0, len(ids), BOOKS_CHUNK):
            chunk = ids[start : start + BOOKS_CHUNK]
            for token_id in chunk:
                _check_token(token_id)
            response = await self._request("POST", "/books", json=[{"token_id": t} for t in chunk])
            try:
                raws = _books_decoder.decode(response.content) or []
            except msgspec.DecodeError as exc:
                raise VenueError(
                    f"CLOB POST {response.url} returned unreadable books: {exc}", url=str(response.url)
                ) from exc
            now = self._clock.time_ns()
            books.extend(book_from_rest(raw, now) for raw in raws)
        return books

    async def get_time(self) -> int:
        """``GET /time``: the server's Unix time in seconds."""
        response = await self._request("GET", "/time")
        try:
            return int(response.text.strip().strip('"'))
        except ValueError as exc:
            raise VenueError(f"CLOB GET {response.url} returned {response.text[:50]!r}, not a time") from exc

    async def get_price(self, token_id: str, side: Literal["BUY", "SELL"]) -> Decimal | None:
        """``GET /price``: BUY = best bid, SELL = best ask (docs/polymarket-protocol.md#clob-rest). None when that side
        is empty."""
        _check_token(token_id)
        response = await self._request("GET", "/price", params={"token_id": token_id, "side": side})
        return opt_decimal(str(_field(response, "price")))

    async def get_midpoint(self, token_id: str) -> Decimal | None:
        """``GET /midpoint``: ``{"mid": "0.45"}`` (the OpenAPI's ``mid_price`` is accepted too)."""
        _check_token(token_id)
        response = await self._request("GET", "/midpoint", params={"token_id": token_id})
        return opt_decimal(str(_field(response, "mid", "mid_price")))


def _field(response: httpx2.Response, *names: str) -> object:
    try:
        body = response.json()
    except ValueError as exc:
        raise VenueError(f"CLOB {response.url} returned invalid JSON", url=str(response.url)) from exc
    if isinstance(body, dict):
        for name in names:
            if name in body and body[name] is not None:
                return body[name]
    raise VenueError(f"CLOB {response.url} answer lacks {names[0]!r}", url=str(response.url))


def _check_token(token_id: str) -> None:
    if not token_id.isdigit():
        raise InvalidInputError(f"token id {token_id!r} must be a decimal string (the CLOB token id).")
