"""Gamma API (market metadata) served from the model, with Gamma's field names and quirks.

``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded STRINGS (``"[\\"Yes\\", \\"No\\"]"``)
exactly as Gamma sends them; numeric fields such as ``bestBid`` are JSON numbers, ``volume`` and
``liquidity`` strings (with ``volumeNum``/``liquidityNum`` numbers), ``endDate`` ISO-8601. A resolved
market is ``closed`` with ``outcomePrices`` ``["1", "0"]`` or ``["0", "1"]`` and
``umaResolutionStatus: "resolved"``.

Protocol V2 markets (``SimMarket.version == "v2"``) carry ``version: "v2"``, a 62-hex ``conditionId`` (the
CLOB and the sockets use the zero-padded 64-hex form), ``positionIds`` (a real array of 75-digit ids),
``clobTokenIds: null`` and ``resolutionStatus`` (active, then resolved); V1 markets carry ``version: "v1"``.
Filters match the Gamma form only: ``condition_ids`` the 62-hex id of a V2 market, ``clob_token_ids`` V1
token ids only.

Routes: ``/markets/keyset`` and ``/events/keyset`` (``limit`` <= 100 / <= 500, opaque ``after_cursor``,
``next_cursor`` only on a full page, 422 on ``offset`` or a bad cursor, ``closed`` false unless asked);
the offset lists ``/markets`` and ``/events`` still answer but with ``Deprecation``, ``Sunset`` and
``Warning`` headers (their ``closed`` defaults to false unless the query names markets explicitly);
``/markets/slug/{slug}``, ``/markets/{id}``, ``/events/slug/{slug}``, ``/events/{id}``, ``/public-search``
and ``GET /comments`` (``parent_entity_type``, ``parent_entity_id``, ``limit``, ``offset``,
``ascending``).
"""

from __future__ import annotations

import base64
import json
import weakref
from collections.abc import Callable
from typing import Any

from .market_model import MarketModel, SimMarket
from .rest_server import HttpRequest, HttpResponse, json_response
from .wire import PRICE_ONE, fmt_price

__all__ = ["event_json", "handle_gamma", "market_json", "set_gamma_override"]

GammaOverride = Callable[[HttpRequest], HttpResponse | None]
_OVERRIDES: weakref.WeakKeyDictionary[MarketModel, GammaOverride] = weakref.WeakKeyDictionary()


def set_gamma_override(model: MarketModel, handler: GammaOverride) -> None:
    """Let ``handler`` answer Gamma requests first for ``model``'s simulator (None falls back to the model).

    Used by a recording replay to serve the recorded market metadata (issue 6).
    """
    _OVERRIDES[model] = handler


_NOT_FOUND = {"type": "not found error", "error": "id not found"}
DEPRECATED_HEADERS = {"deprecation": "true", "sunset": "Fri, 01 May 2026 00:00:00 GMT"}
"""What Gamma sent on the offset lists (plus a ``warning`` naming the keyset route)."""


def _num(units: int | None) -> float | None:
    # Gamma's numeric fields are JSON numbers; this is presentation only, books stay integer.
    return None if units is None else units / PRICE_ONE


def market_json(market: SimMarket) -> dict[str, Any]:
    """One Gamma market object."""
    mid = market.mid(0)
    if market.closed and market.winner is not None:
        prices = ["1", "0"] if market.winner == 0 else ["0", "1"]
    elif mid is not None:
        prices = [fmt_price(mid), fmt_price(PRICE_ONE - mid)]
    else:
        prices = ["0.5", "0.5"]
    bid, ask = market.best_bid(0), market.best_ask(0)
    liquidity = sum(p * s for p, s in market.bids.items()) // (PRICE_ONE * 100)
    volume = market.volume_cents / 100
    body: dict[str, Any] = {
        "id": market.market_id,
        "question": market.question,
        "conditionId": market.gamma_condition_id,
        "slug": market.slug,
        "description": f"Simulated market. Resolves on {market.end_date}.",
        "endDate": market.end_date,
        "startDate": "2026-01-01T00:00:00Z",
        "outcomes": json.dumps([t.outcome for t in market.tokens]),
        "outcomePrices": json.dumps(prices),
        "clobTokenIds": None if market.version == "v2" else json.dumps(list(market.token_ids)),
        "active": True,
        "closed": market.closed,
        "archived": False,
        "volume": str(volume),
        "volumeNum": volume,
        "liquidity": str(liquidity),
        "liquidityNum": float(liquidity),
        "bestBid": _num(bid),
        "bestAsk": _num(ask),
        "spread": _num(ask - bid) if bid is not None and ask is not None else None,
        "lastTradePrice": _num(market.last_trade) or 0,
        "orderPriceMinTickSize": market.tick / PRICE_ONE,
        "orderMinSize": market.min_order_size,
        "enableOrderBook": True,
        "acceptingOrders": not market.closed,
        "feesEnabled": False,
        "negRisk": False,
        "events": [{"id": market.event_id, "slug": market.event_slug, "title": market.event_title}],
        "version": market.version,
    }
    if market.version == "v2":
        body["positionIds"] = list(market.token_ids)
        body["resolutionStatus"] = "resolved" if market.closed else "active"
    else:
        body["umaResolutionStatus"] = "resolved" if market.closed else None
    return body


def event_json(event_id: str, markets: list[SimMarket]) -> dict[str, Any]:
    first = markets[0]
    return {
        "id": event_id,
        "ticker": first.event_slug,
        "slug": first.event_slug,
        "title": first.event_title,
        "description": f"Simulated event {first.event_title}",
        "active": True,
        "closed": all(m.closed for m in markets),
        "archived": False,
        "negRisk": False,
        "endDate": max(m.end_date for m in markets),
        "volume": sum(m.volume_cents for m in markets) / 100,
        "markets": [market_json(m) for m in markets],
    }


def _events(model: MarketModel) -> dict[str, list[SimMarket]]:
    out: dict[str, list[SimMarket]] = {}
    for market in model.markets:
        out.setdefault(market.event_id, []).append(market)
    return out


def _bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.lower() in ("true", "1", "yes")


def _page(items: list[Any], request: HttpRequest, default_limit: int = 100) -> list[Any]:
    try:
        limit = int(request.arg("limit") or default_limit)
        offset = int(request.arg("offset") or 0)
    except ValueError:
        limit, offset = default_limit, 0
    return items[max(0, offset) : max(0, offset) + max(0, limit)]


def _matching_markets(model: MarketModel, request: HttpRequest, *, keyset: bool) -> list[dict[str, Any]]:
    ids, slugs = set(request.args("id")), set(request.args("slug"))
    conditions = {c.lower() for c in request.args("condition_ids")}
    tokens = set(request.args("clob_token_ids"))
    explicit = bool(ids or slugs or conditions or tokens)
    closed = _bool(request.arg("closed"))
    active = None if keyset else _bool(request.arg("active"))  # no `active` on the keyset routes
    out = []
    for market in model.markets:
        if ids and market.market_id not in ids:
            continue
        if slugs and market.slug not in slugs:
            continue
        if conditions and market.gamma_condition_id.lower() not in conditions:
            continue
        if tokens and (market.version == "v2" or not tokens.intersection(market.token_ids)):
            continue
        # Keyset: closed=false unless asked, whatever else the query names.
        default = False if keyset or not explicit else None
        want_closed = closed if closed is not None else default
        if want_closed is not None and market.closed != want_closed:
            continue
        if active is not None and active != (not market.closed):
            continue
        out.append(market_json(market))
    return out


def _matching_events(model: MarketModel, request: HttpRequest, *, keyset: bool) -> list[dict[str, Any]]:
    ids, slugs = set(request.args("id")), set(request.args("slug"))
    closed = _bool(request.arg("closed"))
    out = []
    for event_id, markets in _events(model).items():
        body = event_json(event_id, markets)
        if (ids and event_id not in ids) or (slugs and body["slug"] not in slugs):
            continue
        want = closed if closed is not None else (None if (ids or slugs) and not keyset else False)
        if want is not None and body["closed"] != want:
            continue
        out.append(body)
    return out


def _invalid(error: str) -> HttpResponse:
    return json_response({"type": "validation error", "error": error}, 422)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _keyset_page(model: MarketModel, items: list[dict[str, Any]], request: HttpRequest, route: str) -> HttpResponse:
    """One keyset page: ``{route: [...], "next_cursor": ...}`` (the cursor only on a full page)."""
    if request.arg("offset") is not None:
        return _invalid("offset is not allowed on keyset endpoints")
    cap = 100 if route == "markets" else 500
    try:
        limit = int(request.arg("limit") or 20)
    except ValueError:
        return _invalid("limit must be an integer")
    if not 1 <= limit <= cap:
        return _invalid(f"limit must be between 1 and {cap}")
    start = 0
    cursor = request.arg("after_cursor")
    if cursor:
        if model.keyset_cursor_faults > 0:
            model.keyset_cursor_faults -= 1
            return _invalid("invalid cursor")
        try:
            start = int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
        except (ValueError, KeyError, TypeError):
            return _invalid("invalid cursor")
    page = items[start : start + limit]
    body: dict[str, Any] = {route: page}
    if len(page) == limit:
        body["next_cursor"] = _cursor(start + limit)
    return json_response(body)


def _deprecated(obj: Any, route: str) -> HttpResponse:
    response = json_response(obj)
    headers = {**DEPRECATED_HEADERS, "warning": f'299 - "use /{route}/keyset"'}
    return HttpResponse(response.status, response.body, response.content_type, headers)


def _comments(model: MarketModel, request: HttpRequest) -> HttpResponse:
    entity_type = request.arg("parent_entity_type") or "Event"
    entity_id = request.arg("parent_entity_id") or ""
    try:
        limit = min(100, int(request.arg("limit") or 20))
        offset = int(request.arg("offset") or 0)
    except ValueError:
        return _invalid("limit and offset must be integers")
    ascending = _bool(request.arg("ascending")) or False
    return json_response(model.comments.query(entity_type, entity_id, limit=limit, offset=offset, ascending=ascending))


def _search(model: MarketModel, request: HttpRequest) -> dict[str, Any]:
    words = [w for w in (request.arg("q") or "").lower().split() if w]
    keep_closed = _bool(request.arg("keep_closed_markets")) or False
    events = []
    for event_id, markets in _events(model).items():
        matching = [
            m
            for m in markets
            if (keep_closed or not m.closed)
            and all(w in f"{m.question} {m.slug} {m.event_title}".lower() for w in words)
        ]
        if matching:
            body = event_json(event_id, markets)
            body["markets"] = [market_json(m) for m in matching]
            events.append(body)
    limit = int(request.arg("limit_per_type") or 10)
    return {"events": events[:limit], "tags": [], "profiles": [], "pagination": {"hasMore": len(events) > limit}}


async def handle_gamma(request: HttpRequest, model: MarketModel) -> HttpResponse | None:
    """Answer a Gamma route, or None if ``request`` is not one."""
    if request.method != "GET":
        return None
    override = _OVERRIDES.get(model)
    if override is not None:
        answered = override(request)
        if answered is not None:
            return answered
    parts = [p for p in request.path.split("/") if p]
    if parts == ["markets", "keyset"]:
        return _keyset_page(model, _matching_markets(model, request, keyset=True), request, "markets")
    if parts == ["events", "keyset"]:
        return _keyset_page(model, _matching_events(model, request, keyset=True), request, "events")
    if parts == ["markets"]:
        return _deprecated(_page(_matching_markets(model, request, keyset=False), request), "markets")
    if parts == ["events"]:
        return _deprecated(_page(_matching_events(model, request, keyset=False), request), "events")
    if parts == ["comments"]:
        return _comments(model, request)
    if len(parts) == 3 and parts[:2] == ["markets", "slug"]:
        found = next((m for m in model.markets if m.slug == parts[2]), None)
        return json_response(market_json(found)) if found else json_response(_NOT_FOUND, 404)
    if len(parts) == 2 and parts[0] == "markets":
        found = next((m for m in model.markets if m.market_id == parts[1]), None)
        return json_response(market_json(found)) if found else json_response(_NOT_FOUND, 404)
    events = _events(model)
    if len(parts) == 3 and parts[:2] == ["events", "slug"]:
        found_id = next((e for e, ms in events.items() if ms[0].event_slug == parts[2]), None)
        return json_response(event_json(found_id, events[found_id])) if found_id else json_response(_NOT_FOUND, 404)
    if len(parts) == 2 and parts[0] == "events":
        if parts[1] in events:
            return json_response(event_json(parts[1], events[parts[1]]))
        return json_response(_NOT_FOUND, 404)
    if parts == ["public-search"]:
        return json_response(_search(model, request))
    return None
