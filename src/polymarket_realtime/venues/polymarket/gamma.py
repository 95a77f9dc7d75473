"""Gamma REST client: market search and metadata (slug, condition id, token id or numeric id), comments.

``GammaClient(settings)`` is an async context manager over one ``httpx2.AsyncClient``. Parsing lives in
:mod:`.gamma_parse` (outcome ids chosen by the market ``version``; condition ids in the canonical 64-hex
form). Results are cached for a few seconds (``cache_ttl_s``).

Which routes, and why (WEBSOCKET_INTEGRATION.md, "Gamma"):

* single lookups use ``/markets/slug/{slug}`` and ``/markets/{id}``; search uses ``/public-search``;
* every list or batch lookup (condition ids, token ids) walks ``/markets/keyset`` (``limit`` <= 100) or
  ``/events/keyset`` (<= 500) with ``after_cursor`` = the previous ``next_cursor``, re-sending the same
  filters on every page, restarting from page one when a cursor is refused (422), and asking for
  ``closed=true`` separately because the keyset lists hide closed markets by default. The offset lists
  (``/markets?offset=``, ``/events?offset=``) are deprecated and never called;
* ``Deprecation``, ``Sunset`` and ``Warning`` headers on any Gamma answer are logged once per route and
  kept in :attr:`GammaClient.deprecations` (``doctor`` shows them).

A V2 position id may not be listed under Gamma's ``clob_token_ids`` filter; such a token is looked up
on the CLOB (``GET /markets-by-token/{id}``, which names the 64-hex condition id) and then on Gamma by
condition id.

Errors: an unreachable endpoint raises :class:`VenueUnavailableError`, a bad status or body raises
:class:`VenueError`, an unknown market raises :class:`NotFoundError`, each naming what to try next.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx2

from ...clock import SYSTEM_CLOCK, Clock
from ...config import Settings
from ...errors import InvalidInputError, NotFoundError, VenueError, VenueUnavailableError
from ...model.conditions import condition_key, gamma_condition_forms, is_condition_id, normalize_condition_id
from ...model.markets import MarketInfo
from .gamma_parse import SLUG, classify_market_ref, parse_market

__all__ = [
    "DEPRECATION_HEADERS",
    "EVENTS_PAGE_LIMIT",
    "MARKETS_PAGE_LIMIT",
    "GammaClient",
    "classify_market_ref",
    "deprecation_notice",
    "gamma_route",
    "parse_market",
]

log = logging.getLogger(__name__)

MARKETS_PAGE_LIMIT = 100
"""``/markets/keyset`` refuses a larger ``limit``."""
EVENTS_PAGE_LIMIT = 500
"""``/events/keyset`` refuses a larger ``limit``."""
IDS_PER_QUERY = 50
"""Condition or token ids per keyset query (below the ~100 a third party reports as Gamma's cap)."""
MAX_PAGES = 200
"""Safety stop for one keyset walk (20,000 markets)."""
MAX_RESTARTS = 2
"""Restarts of one walk from page one after Gamma refuses a cursor (422)."""
DEPRECATION_HEADERS = ("deprecation", "sunset", "warning")


def gamma_route(path: str) -> str:
    """The route template of a Gamma path, so notices are logged once per route, not per id."""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 3 and parts[1] == "slug":
        return f"/{parts[0]}/slug/{{slug}}"
    if len(parts) == 2 and parts[0] in ("markets", "events", "comments") and parts[1] != "keyset":
        return f"/{parts[0]}/{{id}}"
    return "/" + "/".join(parts)


def deprecation_notice(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``Deprecation``/``Sunset``/``Warning`` headers of one answer (lowercase names), possibly empty."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in DEPRECATION_HEADERS:
            found[name.lower()] = value
    return found


class GammaClient:
    """Async Gamma client. Use as ``async with GammaClient(settings) as gamma:``."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache_ttl_s: float = 5.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self._clock = clock
        self._base = settings.gamma_url.rstrip("/")
        self._clob_base = settings.clob_url.rstrip("/")
        self._timeout = settings.http_timeout_s
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None
        self._clob_client: httpx2.AsyncClient | None = None
        """Only for ``/markets-by-token`` (V2 position ids Gamma's token filter does not list)."""
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, Any]] = {}
        self.deprecations: dict[str, dict[str, str]] = {}
        """Route template -> the deprecation headers Gamma sent on it (first answer that carried them)."""
        self.keyset_restarts = 0

    async def __aenter__(self) -> GammaClient:
        self._ensure_client()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._clob_client is not None:
            clob, self._clob_client = self._clob_client, None
            await clob.aclose()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _ensure_clob_client(self) -> httpx2.AsyncClient:
        if self._clob_client is None:
            from .ratelimit import RateLimitedTransport

            self._clob_client = httpx2.AsyncClient(
                base_url=self._clob_base,
                timeout=self._timeout,
                transport=RateLimitedTransport("clob", self._clob_base, inner=self._transport),
                headers={"Accept": "application/json", "User-Agent": "polymarket-realtime-mcp"},
            )
        return self._clob_client

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

    def _note_headers(self, path: str, headers: Mapping[str, str]) -> None:
        notice = deprecation_notice(headers)
        route = gamma_route(path)
        if notice and route not in self.deprecations:
            self.deprecations[route] = notice
            log.warning("Gamma marks %s deprecated: %s", route, ", ".join(f"{k}: {v}" for k, v in notice.items()))

    async def _get(
        self,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        allow_404: bool = False,
        base: str | None = None,
        service: str = "Gamma",
    ) -> Any:
        base = base or self._base
        key = base + path + "?" + "&".join(f"{k}={v}" for k, v in params)
        now = self._clock.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        client = self._ensure_client() if service == "Gamma" else self._ensure_clob_client()
        url = base + path
        try:
            response = await client.get(path, params=list(params))
        except httpx2.TimeoutException as exc:
            raise VenueUnavailableError(
                f"{service} timed out on {path} after {self._timeout}s; retry shortly", url=url
            ) from exc
        except httpx2.HTTPError as exc:
            variable = "POLYMARKET_GAMMA_URL" if service == "Gamma" else "POLYMARKET_CLOB_URL"
            raise VenueUnavailableError(
                f"cannot reach {service} at {base} ({type(exc).__name__}); check {variable} "
                "and the network, or run with --simulate",
                url=url,
            ) from exc
        if service == "Gamma":
            self._note_headers(path, response.headers)
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code >= 400:
            raise VenueError(
                f"{service} answered HTTP {response.status_code} on {path}: {response.text[:200]}",
                status=response.status_code,
                url=url,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise VenueError(f"{service} sent a non-JSON body on {path}", status=response.status_code, url=url) from exc
        if len(self._cache) > 512:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + self._ttl, body)
        return body

    async def keyset(
        self, route: str, filters: Sequence[tuple[str, str]], *, limit: int | None = None, max_items: int | None = None
    ) -> list[Mapping[str, Any]]:
        """Every item of ``/{route}/keyset`` (``route`` is "markets" or "events") matching ``filters``.

        Walks ``next_cursor`` -> ``after_cursor`` with the same filters on every page; a 422 on a cursor
        restarts the walk from page one (at most :data:`MAX_RESTARTS` times); stops after ``max_items``.
        """
        cap = MARKETS_PAGE_LIMIT if route == "markets" else EVENTS_PAGE_LIMIT
        page_limit = min(cap, limit or cap)
        path = f"/{route}/keyset"
        items: list[Mapping[str, Any]] = []
        cursor: str | None = None
        restarts = 0
        for _ in range(MAX_PAGES):
            params = [*filters, ("limit", str(page_limit))]
            if cursor is not None:
                params.append(("after_cursor", cursor))
            try:
                body = await self._get(path, params)
            except VenueError as exc:
                if exc.status == 422 and cursor is not None and restarts < MAX_RESTARTS:
                    restarts += 1
                    self.keyset_restarts += 1
                    log.warning("Gamma refused a %s cursor (HTTP 422); restarting the walk from page one", path)
                    # A cached first page would hand out the refused cursor again.
                    prefix = self._base + path + "?"
                    self._cache = {k: v for k, v in self._cache.items() if not k.startswith(prefix)}
                    items, cursor = [], None
                    continue
                raise
            page = body.get(route) if isinstance(body, Mapping) else None
            if not isinstance(page, list):
                raise VenueError(f"Gamma {path} did not return {{{route!r}: [...]}}", url=self._base + path)
            items.extend(item for item in page if isinstance(item, Mapping))
            next_cursor = body.get("next_cursor")
            if not next_cursor or not page or (max_items is not None and len(items) >= max_items):
                break
            cursor = str(next_cursor)
        return items[:max_items] if max_items is not None else items

    async def _markets(self, filters: Sequence[tuple[str, str]], *, closed: bool | None = None) -> list[MarketInfo]:
        """Keyset markets matching ``filters``; ``closed=None`` asks for open and closed ones (two walks)."""
        states = ("false", "true") if closed is None else ("true" if closed else "false",)
        found: list[MarketInfo] = []
        for state in states:
            found.extend(parse_market(raw) for raw in await self.keyset("markets", [*filters, ("closed", state)]))
        return found

    # -- public API ---------------------------------------------------------------------------

    async def search(self, query: str, limit: int = 10, active_only: bool = True) -> list[MarketInfo]:
        """Markets matching ``query`` (``/public-search`` events -> their markets), best matches first.

        Falls back to the exact slug route (``/markets/slug/{slug}``) when the text search finds nothing.
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
        if not found and SLUG.match(query):
            raw = await self._get(f"/markets/slug/{query}", allow_404=True)
            if isinstance(raw, Mapping):
                market = parse_market(raw)
                if not (active_only and market.closed):
                    found.append(market)
        return found[:limit]

    async def get_market(self, ref: str) -> MarketInfo:
        """One market by slug, condition id (62 or 64 hex), token id (V1 or V2) or numeric Gamma id."""
        ref = ref.strip()
        kind = classify_market_ref(ref)
        hint = "Use search_markets to find the market's slug or condition id."
        if kind == "condition_id":
            markets = await self._by_condition(normalize_condition_id(ref))
        elif kind == "token_id":
            markets = await self._by_token(ref)
        elif kind == "gamma_id":
            raw = await self._get(f"/markets/{ref}", allow_404=True)
            markets = [parse_market(raw)] if isinstance(raw, Mapping) else []
        else:
            raw = await self._get(f"/markets/slug/{ref}", allow_404=True)
            markets = [parse_market(raw)] if isinstance(raw, Mapping) else []
        if not markets:
            raise NotFoundError(f"no market found for {kind.replace('_', ' ')} {ref!r}. {hint}")
        return markets[0]

    async def _by_condition(self, canonical: str) -> list[MarketInfo]:
        filters = [("condition_ids", form) for form in gamma_condition_forms(canonical)]
        return [m for m in await self._markets(filters) if m.condition_id == canonical]

    async def _by_token(self, token: str) -> list[MarketInfo]:
        markets = [m for m in await self._markets([("clob_token_ids", token)]) if token in m.token_ids]
        if markets:
            return markets
        # V2 position ids are not clobTokenIds: ask the CLOB which condition the token belongs to.
        condition = await self._condition_of_token(token)
        if condition is None:
            return []
        return [m for m in await self._by_condition(condition) if token in m.token_ids]

    async def _condition_of_token(self, token: str) -> str | None:
        body = await self._get(f"/markets-by-token/{token}", allow_404=True, base=self._clob_base, service="CLOB")
        if not isinstance(body, Mapping):
            return None
        for key in ("condition_id", "conditionId", "market"):
            value = body.get(key)
            if isinstance(value, str) and is_condition_id(value.strip()):
                return condition_key(value.strip())
        return None

    async def markets_by_condition_ids(self, condition_ids: Iterable[str]) -> list[MarketInfo]:
        """Markets (open or closed) for the given condition ids (either width); unknown ids are simply absent."""
        ids = sorted({normalize_condition_id(c) for c in condition_ids if c.strip()})
        result: dict[str, MarketInfo] = {}
        for start in range(0, len(ids), IDS_PER_QUERY // 2):
            chunk = ids[start : start + IDS_PER_QUERY // 2]
            filters = [("condition_ids", form) for c in chunk for form in gamma_condition_forms(c)]
            for market in await self._markets(filters):
                if market.condition_id in chunk:
                    result.setdefault(market.condition_id, market)
        return list(result.values())

    async def resolve_token_ids(self, market_refs: Iterable[str]) -> dict[str, list[str]]:
        """Map each market reference (slug or condition id, ...) to its outcome token ids."""
        resolved: dict[str, list[str]] = {}
        for ref in market_refs:
            market = await self.get_market(ref)
            if not market.outcomes:
                raise VenueError(f"market {ref!r} cannot be streamed: {market.unsupported_reason or 'no outcome ids'}")
            resolved[ref] = market.token_ids
        return resolved

    async def get_event(self, event_id: str) -> Mapping[str, Any] | None:
        """``GET /events/{id}``; None when Gamma has no such event."""
        body = await self._get(f"/events/{event_id}", allow_404=True)
        return body if isinstance(body, Mapping) else None

    async def comments(self, event_id: str, *, limit: int, offset: int = 0) -> list[Mapping[str, Any]]:
        """One page of an event's comments (``GET /comments``, newest first), never cached."""
        params = [
            ("parent_entity_type", "Event"),
            ("parent_entity_id", event_id),
            ("order", "createdAt"),
            ("ascending", "false"),
            ("limit", str(limit)),
        ]
        if offset:
            params.append(("offset", str(offset)))
        key = self._base + "/comments?" + "&".join(f"{k}={v}" for k, v in params)
        self._cache.pop(key, None)
        body = await self._get("/comments", params)
        if not isinstance(body, list):
            raise VenueError("Gamma /comments did not return a list", url=self._base + "/comments")
        return [c for c in body if isinstance(c, Mapping)]
