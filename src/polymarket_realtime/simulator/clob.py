"""Public CLOB REST endpoints (docs/polymarket-protocol.md#clob-rest) served from the market model's books."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .market_model import MarketModel
from .rest_server import HttpRequest, HttpResponse, json_response
from .source import BookSource
from .wire import PRICE_ONE, parse_price

__all__ = ["handle_clob", "handle_markets_by_token"]

_NO_BOOK = {"error": "No orderbook exists for the requested token id"}


def _decimal(units: int) -> str:
    value = (Decimal(units) / PRICE_ONE).normalize()
    return format(value, "f")


def _top(source: BookSource, token_id: str) -> tuple[int | None, int | None] | None:
    """(best bid, best ask) in price units from the REST book, or None for an unknown token."""
    book = source.rest_book(token_id)
    if book is None:
        return None
    bids, asks = book["bids"], book["asks"]
    # Venue order: best level last on both sides.
    bid = parse_price(bids[-1]["price"]) if bids else None
    ask = parse_price(asks[-1]["price"]) if asks else None
    return bid, ask


def _token_list(body: bytes, *, with_side: bool = False) -> list[tuple[str, str]] | None:
    try:
        items = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("token_id"), str):
            return None
        out.append((item["token_id"], str(item.get("side", "")).upper() if with_side else ""))
    return out


async def handle_clob(request: HttpRequest, source: BookSource, now_s: int) -> HttpResponse | None:
    """Answer a CLOB route, or None if ``request`` is not one."""
    path, method = request.path.rstrip("/") or "/", request.method
    if method == "GET" and path == "/time":
        return HttpResponse(200, str(now_s).encode())
    if method == "GET" and path == "/ok":
        return json_response("OK")
    if method == "POST" and path in ("/books", "/prices", "/midpoints", "/spreads"):
        return _batch(path, request, source)
    if method != "GET" or path not in ("/book", "/price", "/midpoint", "/spread", "/last-trade-price", "/tick-size"):
        if path == "/neg-risk" and method == "GET":
            return json_response({"neg_risk": False})
        return None
    token_id = request.arg("token_id") or request.arg("market") or ""
    if not token_id:
        return json_response({"error": "Invalid token id"}, 400)
    book = source.rest_book(token_id)
    if book is None:
        return json_response(_NO_BOOK, 404)
    if path == "/book":
        return json_response(book)
    if path == "/tick-size":
        # The venue sends this one as a JSON number.
        return json_response({"minimum_tick_size": float(book["tick_size"])})
    if path == "/last-trade-price":
        return json_response({"price": book["last_trade_price"] or "0", "side": ""})
    top = _top(source, token_id)
    assert top is not None
    bid, ask = top
    if path == "/price":
        side = (request.arg("side") or "").upper()
        if side not in ("BUY", "SELL"):
            return json_response({"error": "Invalid side"}, 400)
        price = bid if side == "BUY" else ask  # BUY = best bid, SELL = best ask [docs/polymarket-protocol.md#clob-rest]
        if price is None:
            return json_response({"error": "No orderbook exists for the requested token id"}, 404)
        return json_response({"price": _decimal(price)})
    if bid is None or ask is None:
        return json_response({"error": "No orderbook exists for the requested token id"}, 404)
    if path == "/midpoint":
        return json_response({"mid": format((Decimal(bid + ask) / 2 / PRICE_ONE).normalize(), "f")})
    return json_response({"spread": _decimal(ask - bid)})


def _batch(path: str, request: HttpRequest, source: BookSource) -> HttpResponse:
    items = _token_list(request.body, with_side=path == "/prices")
    if items is None:
        return json_response({"error": 'Invalid payload: expected a JSON array of {"token_id": ...}'}, 400)
    if path == "/books":
        books = [b for b in (source.rest_book(t) for t, _ in items) if b is not None]
        return json_response(books)
    out: dict[str, Any] = {}
    for token_id, side in items:
        top = _top(source, token_id)
        if top is None:
            continue
        bid, ask = top
        if path == "/prices":
            entry = out.setdefault(token_id, {})
            for name, value in (("BUY", bid), ("SELL", ask)):
                if value is not None and side in ("", name):
                    entry[name] = _decimal(value)
        elif bid is not None and ask is not None:
            if path == "/midpoints":
                out[token_id] = format((Decimal(bid + ask) / 2 / PRICE_ONE).normalize(), "f")
            else:
                out[token_id] = _decimal(ask - bid)
    return json_response(out)


def handle_markets_by_token(request: HttpRequest, model: MarketModel) -> HttpResponse | None:
    """``GET /markets-by-token/{token_id}``: the market of a token (V2 position ids included).

    Names the CLOB's 64-hex condition id (zero-padded for a V2 market) and both outcome ids.
    """
    parts = [p for p in request.path.split("/") if p]
    if request.method != "GET" or len(parts) != 2 or parts[0] != "markets-by-token":
        return None
    found = model.token(parts[1])
    if found is None:
        return json_response({"error": "market not found"}, 404)
    market = found[0]
    yes, no = market.token_ids
    return json_response({"condition_id": market.condition_id, "primary_token_id": yes, "secondary_token_id": no})
