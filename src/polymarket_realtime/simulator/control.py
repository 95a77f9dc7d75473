"""The REST router: control API (``/_sim/*``), auth (``/auth/*``), L2 account data (``/data/*``),
then Gamma and public CLOB routes, all on one port.

Auth: ``POST /auth/api-key`` and ``GET /auth/derive-api-key`` (L1); ``GET /auth/api-keys``,
``DELETE /auth/api-key``, ``GET /data/orders``, ``GET /data/trades`` (L2; query ``market``, ``id``,
``next_cursor``; trades also ``after``, ``maker_address``; paged by ``sim.user.page_size``).

Control API (JSON bodies, all optional fields):
``POST /_sim/fault {"kind", "seconds", "on", "nbytes"}`` (REST faults ``http_429``/``http_503`` take
``count``, ``path``, ``retry_after``, ``retry_after_s``, ``http_date``: see :mod:`.rest_faults`),
``GET /_sim/state``, ``GET /_sim/markets``,
``POST /_sim/step {"n"}``, ``POST /_sim/pause``, ``POST /_sim/resume``, ``POST /_sim/rate {"per_s"}``,
``POST /_sim/resolve {"market", "winner"}``, ``POST /_sim/new_market``, ``POST /_sim/move {"market",
"price"}``, ``POST /_sim/user/trade {"market"}``, ``POST /_sim/user/cancel {"order_id"}``,
``POST /_sim/auth/revoke``, ``POST /_sim/polybolt {...}`` (PolyBolt faults and points: see
:meth:`.polybolt.PolyBoltServer.control`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .auth import AuthFailure
from .clob import handle_clob, handle_markets_by_token
from .faults import FAULT_KINDS
from .gamma import handle_gamma
from .rest_server import HttpRequest, HttpResponse, json_response
from .wire import parse_price

if TYPE_CHECKING:
    from .runtime import Simulator

__all__ = ["build_handler"]


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    obj = json.loads(request.body)
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    return obj


def _state(sim: Simulator) -> dict[str, Any]:
    obs = sim.observed
    return {
        "ws_url": sim.ws_url,
        "rtds_url": sim.rtds_url,
        "sports_url": sim.sports_url,
        "rest_url": sim.rest_url,
        "paused": sim.paused,
        "rate_per_s": sim.model_source.rate_per_s,
        "markets": len(sim.model.markets),
        "active_markets": len(sim.model.active_markets()),
        "events_generated": sim.model.events_generated,
        "frames_dispatched": sim.frames_dispatched,
        "connections_opened": dict(obs.opened),
        "connections_open": {p: len(obs.open_on(p)) for p in ("/ws/market", "/ws/user", "/")},
        "connections_refused": obs.refused,
        "subscribed_assets": len(obs.subscribed_assets()),
        "pings": sum(len(c.pings) for c in obs.connections),
        "silent": sim.faults.silent,
        "refusing": sim.faults.refusing,
        "dump_delay_s": sim.faults.dump_delay_s,
        "faults": [kind for _, kind in obs.faults],
        "rest_faults_pending": sim.faults.rest.pending,
        "rest_faults_served": {str(k): v for k, v in sim.faults.rest.served.items()},
        "credentials_issued": len(sim.credentials.issued()),
        "auth_generation": sim.credentials.generation,
        "user_lifecycles": sim.user.lifecycles,
        "rest_requests": dict(obs.rest_requests),
    }


def _markets(sim: Simulator) -> list[dict[str, Any]]:
    return [
        {
            "condition_id": m.condition_id,
            "market_id": m.market_id,
            "slug": m.slug,
            "question": m.question,
            "event_id": m.event_id,
            "tokens": [{"token_id": t.token_id, "outcome": t.outcome} for t in m.tokens],
            "tick_size": m.tick_size,
            "closed": m.closed,
        }
        for m in sim.model.markets
    ]


async def _control(sim: Simulator, request: HttpRequest) -> HttpResponse:
    path, method = request.path.rstrip("/"), request.method
    if method == "GET" and path == "/_sim/state":
        return json_response(_state(sim))
    if method == "GET" and path == "/_sim/markets":
        return json_response(_markets(sim))
    if method != "POST":
        return json_response({"error": "not found"}, 404)
    body = _body(request)
    if path == "/_sim/fault":
        kind = str(body.get("kind", ""))
        if kind not in FAULT_KINDS:
            return json_response({"error": f"unknown fault {kind!r}", "kinds": list(FAULT_KINDS)}, 400)
        if kind in ("http_429", "http_503"):
            retry_after_s = body.get("retry_after_s", body.get("seconds"))  # the CLI's --seconds
            retry_after = body.get("retry_after")
            sim.faults.rest.add(
                int(kind[5:]),
                count=int(body.get("count", 1)),
                path=str(body.get("path") or "/"),
                retry_after=str(retry_after) if retry_after is not None else None,
                retry_after_s=float(retry_after_s) if retry_after_s is not None else None,
                http_date=bool(body.get("http_date", False)),
            )
            sim.observed.fault(kind)
            return json_response({"ok": True, "kind": kind, "pending": sim.faults.rest.pending})
        seconds = body.get("seconds")
        nbytes = body.get("nbytes")
        sim.faults.apply(
            kind,
            seconds=float(seconds) if seconds is not None else None,
            on=bool(body["on"]) if "on" in body else None,
            nbytes=int(nbytes) if nbytes is not None else None,
        )
        return json_response({"ok": True, "kind": kind})
    if path == "/_sim/step":
        frames = sim.step(int(body.get("n", 1)))
        return json_response({"ok": True, "frames": len(frames)})
    if path == "/_sim/pause":
        sim.pause()
        return json_response({"ok": True, "paused": True})
    if path == "/_sim/resume":
        sim.resume()
        return json_response({"ok": True, "paused": False})
    if path == "/_sim/rate":
        sim.set_rate(float(body["per_s"]))
        return json_response({"ok": True, "rate_per_s": sim.model_source.rate_per_s})
    if path == "/_sim/resolve":
        winner = body.get("winner")
        frames = sim.resolve_market(body.get("market"), int(winner) if winner is not None else None)
        return json_response({"ok": True, "frames": len(frames)})
    if path == "/_sim/new_market":
        sim.add_market()
        return json_response({"ok": True, "market": _markets(sim)[-1]})
    if path == "/_sim/move":
        market = str(body["market"])
        if sim.model.market(market) is None:
            return json_response({"error": "unknown market"}, 404)
        frames = sim.move_price(market, parse_price(str(body["price"])))
        return json_response({"ok": True, "frames": len(frames)})
    if path == "/_sim/user/trade":
        started = []
        for api_key, address, markets in sim.ws.user_connections() or _issued(sim):
            trade_id = sim.user.start(api_key, address, market=body.get("market"), markets=markets)
            if trade_id is not None:
                started.append(trade_id)
        return json_response({"ok": bool(started), "trade_ids": started})
    if path == "/_sim/polybolt":
        return json_response(sim.polybolt.control(body))
    if path == "/_sim/user/cancel":
        return json_response({"ok": sim.user.cancel(str(body["order_id"]))})
    if path == "/_sim/auth/revoke":
        return json_response({"ok": True, "revoked": sim.credentials.revoke_all()})
    return json_response({"error": "not found"}, 404)


def _issued(sim: Simulator) -> list[tuple[str, str, frozenset[str]]]:
    return [(c.api_key, c.address, frozenset()) for c in sim.credentials.issued()]


def _auth(sim: Simulator, request: HttpRequest) -> HttpResponse | None:
    path, method = request.path.rstrip("/"), request.method
    if path not in ("/auth/api-key", "/auth/api-keys", "/auth/derive-api-key", "/data/orders", "/data/trades"):
        return None
    try:
        if path == "/auth/api-key" and method == "POST":
            return json_response(sim.credentials.create(request.headers).as_json())
        if path == "/auth/derive-api-key" and method == "GET":
            return json_response(sim.credentials.derive(request.headers).as_json())
        allowed = {"/auth/api-key": "DELETE", "/auth/api-keys": "GET", "/data/orders": "GET", "/data/trades": "GET"}
        if allowed.get(path) != method:
            return json_response({"error": "method not allowed"}, 405)
        cred = sim.credentials.verify_l2(method, request.path, request.body, request.headers)
    except AuthFailure as exc:
        return json_response({"error": str(exc)}, exc.status)
    if path == "/auth/api-keys":
        return json_response({"apiKeys": sim.credentials.keys_for(cred.address)})
    if path == "/auth/api-key":
        sim.credentials.delete(cred.api_key)
        return json_response("OK")
    return json_response(_account_page(sim, cred.api_key, path, request))


def _account_page(sim: Simulator, owner: str, path: str, request: HttpRequest) -> dict[str, Any]:
    """One page of ``/data/orders`` (open orders; by ``id`` whatever the status) or ``/data/trades``.

    Cursors are the base64 offset like the venue's (``"MA=="`` is 0); ``"LTE="`` ends the results.
    """
    user = sim.user
    market, row_id = request.arg("market"), request.arg("id")
    if path == "/data/orders":
        rows = list(user.orders.get(owner, {}).values())
        if row_id:
            rows += list(user.closed_orders.get(owner, {}).values())
    else:
        rows = list(user.trades.get(owner, {}).values())
        rows.reverse()  # newest first
        after, maker = request.arg("after"), request.arg("maker_address")
        if after:
            rows = [r for r in rows if int(r["match_time"]) >= int(after)]
        if maker:
            rows = [r for r in rows if str(r.get("maker_address", "")).lower() == maker.lower()]
    if market:
        rows = [r for r in rows if r["market"] == market]
    if row_id:
        rows = [r for r in rows if r["id"] == row_id]
    cursor = request.arg("next_cursor") or "MA=="
    start = 0 if cursor == "MA==" else int(base64.b64decode(cursor).decode())
    page = rows[start : start + user.page_size]
    end = start + len(page)
    next_cursor = base64.b64encode(str(end).encode()).decode() if end < len(rows) else "LTE="
    return {"data": page, "next_cursor": next_cursor, "limit": user.page_size, "count": len(page)}


def build_handler(sim: Simulator) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    """The request handler for :class:`~.rest_server.RestServer`."""

    async def handle(request: HttpRequest) -> HttpResponse:
        sim.observed.rest_requests[f"{request.method} {request.path}"] += 1
        try:
            if request.path.startswith("/_sim/"):
                return await _control(sim, request)
            injected = sim.faults.rest.take(request.path)
            if injected is not None:
                return injected
            response = _auth(sim, request)
            if response is None:
                response = await handle_gamma(request, sim.model)
            if response is None:
                response = handle_markets_by_token(request, sim.model)
            if response is None:
                response = await handle_clob(request, sim.source, int(sim.now_s()))
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": f"bad request: {exc}"}, 400)
        return response if response is not None else json_response({"error": "not found"}, 404)

    return handle
