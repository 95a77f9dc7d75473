"""Gamma REST client: market search and metadata (slug, condition id, token id or numeric id).

``GammaClient(settings)`` is an async context manager over one ``httpx2.AsyncClient``. Gamma returns
``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as JSON-*encoded strings*; Protocol-V2 markets
(``version == "v2"``) carry their token ids in ``positionIds``. :func:`parse_market` turns one Gamma
market object into a :class:`~polymarket_realtime.model.markets.MarketInfo` with Decimal prices and,
for closed markets, the winning outcome. Results are cached for a few seconds (``cache_ttl_s``).

Errors: an unreachable endpoint raises :class:`VenueUnavailableError`, a bad status or body raises
:class:`VenueError`, an unknown market raises :class:`NotFoundError`, each naming what to try next.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any

import httpx2

from ...config import Settings
from ...errors import InvalidInputError, NotFoundError, VenueError, VenueUnavailableError
from ...model.markets import MarketInfo, Outcome

__all__ = ["GammaClient", "classify_market_ref", "parse_market"]

log = logging.getLogger(__name__)

_CONDITION_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Gamma's numeric ids are small; CLOB token ids are ~77-digit uint256 values.
_MAX_GAMMA_ID_DIGITS = 12


def classify_market_ref(ref: str) -> str:
    """Return ``"condition_id"``, ``"token_id"``, ``"gamma_id"`` or ``"slug"``; raise on anything else."""
    ref = ref.strip()
    if _CONDITION_ID.match(ref):
        return "condition_id"
    if ref.isdigit():
        return "gamma_id" if len(ref) <= _MAX_GAMMA_ID_DIGITS else "token_id"
    if _SLUG.match(ref):
        return "slug"
    raise InvalidInputError(
        f"{ref!r} is not a market reference: send a market slug (e.g. 'will-x-happen'), a condition id "
        "(0x followed by 64 hex characters), a token id (a long decimal string) or a numeric Gamma id. "
        "Use search_markets to find one."
    )


def _json_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return []
        return decoded if isinstance(decoded, list) else []
    return []


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return default


def _fee_schedule(raw: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    """``(rate, exponent)`` from Gamma's ``feeSchedule`` (an object, sometimes JSON-encoded), else Nones."""
    schedule = raw.get("feeSchedule")
    if isinstance(schedule, str):
        try:
            schedule = json.loads(schedule)
        except ValueError:
            return None, None
    if not isinstance(schedule, Mapping):
        return None, None
    return _dec(schedule.get("rate")), _dec(schedule.get("exponent"))


def _fee_taker_only(raw: Mapping[str, Any]) -> bool | None:
    """Gamma's ``feeSchedule.taker_only`` (``takerOnly`` also accepted), else ``None`` (not published)."""
    schedule = raw.get("feeSchedule")
    if isinstance(schedule, str):
        try:
            schedule = json.loads(schedule)
        except ValueError:
            return None
    if not isinstance(schedule, Mapping):
        return None
    value = schedule.get("taker_only", schedule.get("takerOnly"))
    return None if value is None else _bool(value, True)


def parse_market(raw: Mapping[str, Any], *, event: Mapping[str, Any] | None = None) -> MarketInfo:
    """Build a :class:`MarketInfo` from one Gamma market object (pure; tolerant of missing fields)."""
    names = [str(n) for n in _json_list(raw.get("outcomes"))]
    prices = [_dec(p) for p in _json_list(raw.get("outcomePrices"))]
    tokens = [str(t) for t in _json_list(raw.get("clobTokenIds"))]
    if str(raw.get("version", "")).lower() == "v2":
        position_ids = [str(t) for t in _json_list(raw.get("positionIds"))]
        if position_ids:
            tokens = position_ids
    outcomes = tuple(
        Outcome(
            name=names[i] if i < len(names) else f"outcome{i}",
            token_id=token,
            price=prices[i] if i < len(prices) else None,
        )
        for i, token in enumerate(tokens)
    )
    closed = _bool(raw.get("closed"), False)
    winner: Outcome | None = None
    if closed:
        # A resolved market prices the winner at 1 and the rest at 0.
        for outcome in outcomes:
            if outcome.price is not None and outcome.price == 1:
                winner = outcome
    events = raw.get("events")
    if event is None and isinstance(events, list) and events and isinstance(events[0], Mapping):
        event = events[0]
    return MarketInfo(
        question=str(raw.get("question") or ""),
        slug=str(raw.get("slug") or ""),
        condition_id=str(raw.get("conditionId") or ""),
        market_id=str(raw.get("id") or ""),
        outcomes=outcomes,
        end_date=str(raw["endDate"]) if raw.get("endDate") else None,
        volume=_dec(raw.get("volumeNum", raw.get("volume"))),
        liquidity=_dec(raw.get("liquidityNum", raw.get("liquidity"))),
        active=_bool(raw.get("active"), True),
        closed=closed,
        accepting_orders=_bool(raw["acceptingOrders"], False) if "acceptingOrders" in raw else None,
        tick_size=_dec(raw.get("orderPriceMinTickSize")),
        min_order_size=_dec(raw.get("orderMinSize")),
        neg_risk=_bool(raw.get("negRisk", (event or {}).get("negRisk")), False),
        fees_enabled=_bool(raw["feesEnabled"], False) if "feesEnabled" in raw else None,
        fee_rate=_fee_schedule(raw)[0],
        fee_exponent=_fee_schedule(raw)[1],
        fee_taker_only=_fee_taker_only(raw),
        best_bid=_dec(raw.get("bestBid")),
        best_ask=_dec(raw.get("bestAsk")),
        last_trade_price=_dec(raw.get("lastTradePrice")),
        event_slug=str((event or {}).get("slug") or ""),
        event_id=str((event or {}).get("id") or ""),
        winning_outcome=winner.name if winner else None,
        winning_token_id=winner.token_id if winner else None,
    )


class GammaClient:
    """Async Gamma client. Use as ``async with GammaClient(settings) as gamma:``."""

    def __init__(
        self, settings: Settings, *, cache_ttl_s: float = 5.0, transport: httpx2.AsyncBaseTransport | None = None
    ):
        self._base = settings.gamma_url.rstrip("/")
        self._timeout = settings.http_timeout_s
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, Any]] = {}

    async def __aenter__(self) -> GammaClient:
        self._ensure_client()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _ensure_client(self) -> httpx2.AsyncClient:
        if self._client is None:
            # Imported here to keep this hook one hunk; the limiter is shared with the CLOB clients.
            from .ratelimit import RateLimitedTransport

            self._client = httpx2.AsyncClient(
                base_url=self._base,
                timeout=self._timeout,
                transport=RateLimitedTransport("gamma", self._base, inner=self._transport),
                headers={"Accept": "application/json", "User-Agent": "polymarket-realtime-mcp"},
            )
        return self._client

    # -- HTTP ---------------------------------------------------------------------------------

    async def _get(self, path: str, params: Sequence[tuple[str, str]] = (), *, allow_404: bool = False) -> Any:
        key = path + "?" + "&".join(f"{k}={v}" for k, v in params)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        client = self._ensure_client()
        url = self._base + path
        try:
            response = await client.get(path, params=list(params))
        except httpx2.TimeoutException as exc:
            raise VenueUnavailableError(
                f"Gamma timed out on {path} after {self._timeout}s; retry shortly", url=url
            ) from exc
        except httpx2.HTTPError as exc:
            raise VenueUnavailableError(
                f"cannot reach Gamma at {self._base} ({type(exc).__name__}); check POLYMARKET_GAMMA_URL "
                "and the network, or run with --simulate",
                url=url,
            ) from exc
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code >= 400:
            raise VenueError(
                f"Gamma answered HTTP {response.status_code} on {path}: {response.text[:200]}",
                status=response.status_code,
                url=url,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise VenueError(f"Gamma sent a non-JSON body on {path}", status=response.status_code, url=url) from exc
        if len(self._cache) > 512:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + self._ttl, body)
        return body

    async def _markets(self, params: Sequence[tuple[str, str]]) -> list[MarketInfo]:
        body = await self._get("/markets", params)
        if isinstance(body, Mapping) and isinstance(body.get("markets"), list):
            body = body["markets"]
        if not isinstance(body, list):
            raise VenueError("Gamma /markets did not return a list", url=self._base + "/markets")
        return [parse_market(m) for m in body if isinstance(m, Mapping)]

    # -- public API ---------------------------------------------------------------------------

    async def search(self, query: str, limit: int = 10, active_only: bool = True) -> list[MarketInfo]:
        """Markets matching ``query`` (events -> their markets), best matches first.

        Falls back to an exact slug lookup (``/markets?slug=``) when the text search finds nothing.
        """
        query = query.strip()
        if not query:
            raise InvalidInputError("query is empty: send words from the market question, e.g. 'bitcoin 100k'")
        params = [("q", query), ("limit_per_type", str(max(limit, 5)))]
        if not active_only:
            params.append(("keep_closed_markets", "1"))
        else:
            params.append(("events_status", "active"))
        body = await self._get("/public-search", params)
        found: list[MarketInfo] = []
        seen: set[str] = set()
        events = body.get("events") if isinstance(body, Mapping) else None
        for event in events or []:
            if not isinstance(event, Mapping):
                continue
            for raw in event.get("markets") or []:
                if not isinstance(raw, Mapping):
                    continue
                market = parse_market(raw, event=event)
                if market.condition_id in seen or (active_only and (market.closed or not market.active)):
                    continue
                seen.add(market.condition_id)
                found.append(market)
        if not found and _SLUG.match(query):
            found.extend(m for m in await self._markets([("slug", query)]) if not (active_only and m.closed))
        return found[:limit]

    async def get_market(self, ref: str) -> MarketInfo:
        """One market by slug, condition id, token id or numeric Gamma id."""
        ref = ref.strip()
        kind = classify_market_ref(ref)
        hint = "Use search_markets to find the market's slug or condition id."
        if kind == "condition_id":
            markets = await self._markets([("condition_ids", ref)]) or await self._markets(
                [("condition_ids", ref), ("closed", "true")]
            )
        elif kind == "token_id":
            markets = await self._markets([("clob_token_ids", ref)]) or await self._markets(
                [("clob_token_ids", ref), ("closed", "true")]
            )
        elif kind == "gamma_id":
            raw = await self._get(f"/markets/{ref}", allow_404=True)
            markets = [parse_market(raw)] if isinstance(raw, Mapping) else []
        else:
            raw = await self._get(f"/markets/slug/{ref}", allow_404=True)
            markets = [parse_market(raw)] if isinstance(raw, Mapping) else await self._markets([("slug", ref)])
        if kind == "condition_id":
            markets = [m for m in markets if m.condition_id.lower() == ref.lower()] or markets
        elif kind == "token_id":
            markets = [m for m in markets if ref in m.token_ids] or markets
        if not markets:
            raise NotFoundError(f"no market found for {kind.replace('_', ' ')} {ref!r}. {hint}")
        return markets[0]

    async def markets_by_condition_ids(self, condition_ids: Iterable[str]) -> list[MarketInfo]:
        """Markets (open or closed) for the given condition ids; unknown ids are simply absent."""
        ids = sorted({c.strip() for c in condition_ids if c.strip()})
        result: list[MarketInfo] = []
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            params = [("condition_ids", c) for c in chunk]
            seen: set[str] = set()
            for closed in ("false", "true"):
                for market in await self._markets([*params, ("closed", closed), ("limit", str(len(chunk)))]):
                    if market.condition_id not in seen:
                        seen.add(market.condition_id)
                        result.append(market)
        return result

    async def resolve_token_ids(self, market_refs: Iterable[str]) -> dict[str, list[str]]:
        """Map each market reference (slug or condition id, ...) to its outcome token ids."""
        resolved: dict[str, list[str]] = {}
        for ref in market_refs:
            market = await self.get_market(ref)
            if not market.outcomes:
                raise VenueError(f"market {ref!r} has no CLOB token ids (order book not enabled)")
            resolved[ref] = market.token_ids
        return resolved
