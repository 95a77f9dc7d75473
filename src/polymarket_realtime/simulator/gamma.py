"""Gamma API (market metadata) served from the model, with Gamma's field names and quirks.

``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded STRINGS (``"[\\"Yes\\", \\"No\\"]"``)
exactly as Gamma sends them; numeric fields such as ``bestBid`` are JSON numbers, ``volume`` and
``liquidity`` strings (with ``volumeNum``/``liquidityNum`` numbers), ``endDate`` ISO-8601. A resolved
market is ``closed`` with ``outcomePrices`` ``["1", "0"]`` or ``["0", "1"]`` and
``umaResolutionStatus: "resolved"``. ``closed`` defaults to false on list endpoints unless the query
names markets explicitly (id, slug, condition_ids, clob_token_ids), so lookups of resolved markets work.
"""

from __future__ import annotations

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
    return {
        "id": market.market_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "description": f"Simulated market. Resolves on {market.end_date}.",
        "endDate": market.end_date,
        "startDate": "2026-01-01T00:00:00Z",
        "outcomes": json.dumps([t.outcome for t in market.tokens]),
        "outcomePrices": json.dumps(prices),
        "clobTokenIds": json.dumps(list(market.token_ids)),
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
        "umaResolutionStatus": "resolved" if market.closed else None,
        "events": [{"id": market.event_id, "slug": market.event_slug, "title": market.event_title}],
    }


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


def _list_markets(model: MarketModel, request: HttpRequest) -> list[dict[str, Any]]:
    ids, slugs = set(request.args("id")), set(request.args("slug"))
    conditions = {c.lower() for c in request.args("condition_ids")}
    tokens = set(request.args("clob_token_ids"))
    explicit = bool(ids or slugs or conditions or tokens)
    closed = _bool(request.arg("closed"))
    active = _bool(request.arg("active"))
    out = []
    for market in model.markets:
        if ids and market.market_id not in ids:
            continue
        if slugs and market.slug not in slugs:
            continue
        if conditions and market.condition_id.lower() not in conditions:
            continue
        if tokens and not tokens.intersection(market.token_ids):
            continue
        want_closed = closed if closed is not None else (None if explicit else False)
        if want_closed is not None and market.closed != want_closed:
            continue
        if active is not None and active != (not market.closed):
            continue
        out.append(market_json(market))
    return _page(out, request)


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
    if parts == ["markets"]:
        return json_response(_list_markets(model, request))
    if len(parts) == 3 and parts[:2] == ["markets", "slug"]:
        found = next((m for m in model.markets if m.slug == parts[2]), None)
        return json_response(market_json(found)) if found else json_response(_NOT_FOUND, 404)
    if len(parts) == 2 and parts[0] == "markets":
        found = next((m for m in model.markets if m.market_id == parts[1]), None)
        return json_response(market_json(found)) if found else json_response(_NOT_FOUND, 404)
    events = _events(model)
    if parts == ["events"]:
        ids, slugs = set(request.args("id")), set(request.args("slug"))
        closed = _bool(request.arg("closed"))
        out = []
        for event_id, markets in events.items():
            body = event_json(event_id, markets)
            if (ids and event_id not in ids) or (slugs and body["slug"] not in slugs):
                continue
            want = closed if closed is not None else (None if ids or slugs else False)
            if want is not None and body["closed"] != want:
                continue
            out.append(body)
        return json_response(_page(out, request))
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
