"""Simulated PolyBolt (reference prices) on its own port, path ``/ws``.

Over 400 lines: one simulated socket protocol (auth, subscriptions, acks, snapshots, faults, close codes)
served from one connection table; the wire vocabulary is the client's own in venues/polymarket/polybolt.py.

It behaves as WEBSOCKET_INTEGRATION.md ("PolyBolt reference prices") and docs/polymarket-protocol.md
(section 6) describe the venue: ``auth`` with
the CLOB L2 trio (checked against the simulator's issued credentials), acks for every op, one snapshot
per new subscription, dense per-channel ``seq``, and the limits (64 subscriptions, 20 subscribe frames
per second, 64 KB frames, 8 auth frames), each breach answered with the documented error and close 4008.

Test knobs (:class:`PolyBoltFaults`): close every socket with a code, refuse upgrades with 429/503 and
``Retry-After``, answer ``auth_unavailable``, refuse auth with close 4001 instead of ``auth_invalid``,
skip ``seq`` numbers (a gap) or report ``dropped``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..venues.polymarket import polybolt as pb
from .observe import ConnectionObservation, Observations
from .ws_server import UserAuthenticator

__all__ = ["DEVELOPMENT_KEY", "POLYBOLT_PATH", "PolyBoltFaults", "PolyBoltServer", "with_development_key"]

logger = logging.getLogger(__name__)

DEVELOPMENT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""A publicly known development key (Hardhat account #0), never a real wallet. The simulator issues API
credentials to any signer, so an offline server without credentials of its own uses this one (PolyBolt
reference prices need credentials)."""
POLYBOLT_PATH = "/ws"
OBSERVED_PATH = "polybolt"
"""Key of PolyBolt connections in :class:`Observations` (its own port, so not a path of the CLOB server)."""
_HISTORY = 8
_START = {"btcusd": "64000", "ethusd": "3200", "solusd": "150", "aapl": "190", "eurusd": "1.08", "usdjpy": "150"}


def with_development_key(env: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` plus ``POLYGON_PRIVATE_KEY=DEVELOPMENT_KEY`` unless ``base`` (default: none) has credentials."""
    base = base or {}
    if base.get("POLYGON_PRIVATE_KEY") or base.get("POLYMARKET_API_KEY"):
        return env
    return {**env, "POLYGON_PRIVATE_KEY": DEVELOPMENT_KEY}


@dataclass
class PolyBoltFaults:
    refuse_upgrades: int = 0
    refuse_status: int = 429
    retry_after_s: int = 2
    retry_after_date: str | None = None
    """When set, the refused upgrade's ``Retry-After`` is this HTTP-date instead of ``retry_after_s``."""
    auth_unavailable: int = 0
    """Answer this many auth frames with ``auth_unavailable``."""
    close_4001_on_bad_auth: bool = False
    auth_required: int = 0
    """Answer this many subscribe items with ``auth_required`` even on an authenticated socket."""
    skip_seq: int = 0
    """The next data frame of every channel skips this many ``seq`` numbers (a gap)."""
    report_dropped: int = 0
    """The next data frame of every channel says this many frames were dropped."""


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    obs: ConnectionObservation
    queue: asyncio.Queue[str | tuple[int, str]] = field(default_factory=asyncio.Queue)
    address: str = ""
    auth_frames: int = 0
    subs: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(wire channel, symbol, provider pin or "") -> source served."""
    op_times: deque[float] = field(default_factory=deque)
    seq: dict[str, int] = field(default_factory=dict)
    skip: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)


def _source(wire: str, symbol: str, pin: str | None) -> str:
    if wire == "price.crypto":
        return "pyth"
    if wire.endswith(".twap"):
        return "chainlink"
    return pin if pin in pb.PROVIDERS else "chainlink"


class PolyBoltServer:
    """Create, then ``await start(host, port)``; :meth:`poll` (virtual time) emits live points."""

    def __init__(
        self,
        *,
        authenticator: UserAuthenticator,
        observations: Observations,
        seed: int,
        rate_per_s: float = 1.0,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        on_subscribe: Callable[[str], None] | None = None,
    ) -> None:
        self.authenticator = authenticator
        self.observations = observations
        self.faults = PolyBoltFaults()
        self.rate_per_s = rate_per_s
        self._now_ms = now_ms
        self._on_subscribe = on_subscribe
        self.seed_history = True
        """Invent two points of history for a series never published (False: empty snapshots, e.g. replays)."""
        """Told ``"polybolt"`` on every accepted subscription (a recording replay starts its clock)."""
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._conns: set[_Conn] = set()
        self._history: dict[tuple[str, str], deque[tuple[int, Decimal]]] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_tick = 0.0
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            compression=None,
            max_size=2**20,  # we check the 64 KB limit ourselves, to answer it with 4008 as the venue does
            ping_interval=None,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ test controls

    def close_all(self, code: int, reason: str = "") -> int:
        """Close every socket with ``code``; 1006 drops them without a close frame (an abnormal drop)."""
        conns = list(self._conns)
        if code == 1006:
            for conn in conns:
                conn.ws.transport.abort()
            self.observations.fault("polybolt abort")
            return len(conns)
        for conn in conns:
            self._spawn(conn.ws.close(code, reason))
        self.observations.fault(f"polybolt close {code}")
        return len(conns)

    def control(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /_sim/polybolt``: ``{"close": 4003}``, ``{"refuse": 2, "status": 429, "retry_after": 5}``,
        ``{"auth_unavailable": 3}``, ``{"auth_required": 1}``, ``{"close_4001_on_bad_auth": true}``,
        ``{"skip_seq": 3}``, ``{"dropped": 2}``,
        ``{"publish": {"channel": "crypto", "symbol": "btcusd", "value": "64000.5"}}``."""
        faults = self.faults
        done: dict[str, Any] = {"ok": True}
        if "close" in body:
            done["closed"] = self.close_all(int(body["close"]), str(body.get("reason", "")))
        if "refuse" in body:
            faults.refuse_upgrades = int(body["refuse"])
            faults.refuse_status = int(body.get("status", 429))
            after = body.get("retry_after", 2)
            if isinstance(after, str) and not after.strip().isdigit():
                faults.retry_after_date = after  # the HTTP-date form
            else:
                faults.retry_after_s, faults.retry_after_date = int(after), None
        if "auth_unavailable" in body:
            faults.auth_unavailable = int(body["auth_unavailable"])
        if "auth_required" in body:
            faults.auth_required = int(body["auth_required"])
        if "close_4001_on_bad_auth" in body:
            faults.close_4001_on_bad_auth = bool(body["close_4001_on_bad_auth"])
        if "skip_seq" in body:
            faults.skip_seq = int(body["skip_seq"])
        if "dropped" in body:
            faults.report_dropped = int(body["dropped"])
        if "publish" in body:
            point = body["publish"]
            done["reached"] = self.publish(str(point["channel"]), str(point["symbol"]), str(point["value"]))
        return done

    def publish(self, channel: str, symbol: str, value: str, *, ts_ms: int | None = None) -> int:
        """Push one live point now to every connection subscribed to it; returns connections reached."""
        wire = pb.CHANNELS[channel]
        ts = ts_ms if ts_ms is not None else self._now_ms()
        self._history.setdefault((wire, symbol), deque(maxlen=_HISTORY)).append((ts, Decimal(value)))
        count = 0
        for conn in self._conns:
            # Two filters on one symbol (pinned and not) are two subscriptions, but one stream.
            sources = {src for (w, sym, _), src in conn.subs.items() if w == wire and sym == symbol}
            for source in sorted(sources):
                self._data(conn, wire, self._live_payload(wire, symbol, source, ts, Decimal(value)))
                count += 1
        self.observations.notify()
        return count

    def replay(self, text: str) -> int:
        """Serve one recorded PolyBolt frame: live points are re-published (fresh ``seq`` per connection),
        snapshot points only seed the history (each new subscription gets its own snapshot); acks are skipped.
        """
        try:
            obj = json.loads(text)
        except ValueError:
            return 0
        payload = obj.get("payload") if isinstance(obj, dict) else None
        channel = pb.WIRE_CHANNELS.get(str(obj.get("channel"))) if isinstance(obj, dict) else None
        if channel is None or not isinstance(payload, dict):
            return 0
        symbol = str(payload.get("symbol", "")).lower()
        wire = pb.CHANNELS[channel]
        if obj.get("snapshot") is True:
            hist = self._history.setdefault((wire, symbol), deque(maxlen=_HISTORY))
            for point in payload.get("data") or []:
                if isinstance(point, dict) and isinstance(point.get("full_accuracy_value"), str):
                    hist.append((int(point.get("timestamp") or 0), Decimal(point["full_accuracy_value"])))
            return 0
        value = payload.get("full_accuracy_value")
        if not isinstance(value, str):
            return 0
        return self.publish(channel, symbol, value, ts_ms=int(payload.get("timestamp") or self._now_ms()))

    def subscriptions(self) -> list[set[tuple[str, str, str]]]:
        """Per open connection, its (wire channel, symbol, provider pin) subscriptions."""
        return [set(c.subs) for c in self._conns]

    # ------------------------------------------------------------------ price generation

    def poll(self, sim_time_s: float) -> None:
        """Emit one live point per subscribed series every ``1/rate_per_s`` simulated seconds."""
        if self.rate_per_s <= 0 or sim_time_s < self._next_tick:
            return
        self._next_tick = sim_time_s + 1.0 / self.rate_per_s
        series = {(wire, symbol) for conn in self._conns for wire, symbol, _ in conn.subs}
        for wire, symbol in sorted(series):
            last = self._last(wire, symbol)
            step = (last * Decimal(self._rng.randint(-20, 20)) / Decimal(100_000)).quantize(Decimal("0.00000001"))
            self.publish(pb.WIRE_CHANNELS[wire], symbol, str(last + step))

    def _last(self, wire: str, symbol: str) -> Decimal:
        hist = self._history.get((wire, symbol))
        if hist:
            return hist[-1][1]
        start = Decimal(_START.get(symbol, str(self._rng.randint(10, 500))))
        now = self._now_ms()
        seeded = [(now - 2000, start), (now - 1000, start)] if self.seed_history else []
        self._history[(wire, symbol)] = deque(seeded, maxlen=_HISTORY)
        return start

    @staticmethod
    def _live_payload(wire: str, symbol: str, source: str, ts: int, value: Decimal) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "symbol": symbol,
            "value": float(value),
            "full_accuracy_value": f"{value:.8f}",
            "timestamp": ts,
            "source": source,
        }
        if wire.endswith(".twap"):
            payload["window_seconds"] = pb.TWAP_WINDOW_S
        elif wire == "price.equity":
            payload.update(received_at=ts + 7, is_carried_forward=False)
        return payload

    def _data(self, conn: _Conn, wire: str, payload: dict[str, Any], *, snapshot: bool = False) -> None:
        seq = conn.seq.get(wire, 0) + 1 + self.faults.skip_seq
        conn.seq[wire] = seq
        envelope: dict[str, Any] = {"v": 1, "channel": wire, "seq": seq, "ts": self._now_ms()}
        if snapshot:
            envelope["snapshot"] = True
        if self.faults.report_dropped:
            envelope["dropped"] = self.faults.report_dropped
        self.faults.skip_seq = self.faults.report_dropped = 0  # one lossy frame per fault
        envelope["payload"] = payload
        conn.queue.put_nowait(json.dumps(envelope, separators=(",", ":")))

    # ------------------------------------------------------------------ connections

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != POLYBOLT_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        faults = self.faults
        if faults.refuse_upgrades > 0:
            faults.refuse_upgrades -= 1
            self.observations.refused += 1
            self.observations.notify()
            response = connection.respond(HTTPStatus(faults.refuse_status), "try later\n")
            response.headers = Headers(response.headers)
            response.headers["Retry-After"] = faults.retry_after_date or str(faults.retry_after_s)
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        obs = self.observations.connection_opened(next(self._ids), OBSERVED_PATH)
        conn = _Conn(ws=ws, obs=obs)
        self._conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                obs.frames.append((time.monotonic(), text))
                self.observations.notify()
                if len(text.encode()) > pb.MAX_FRAME_BYTES:
                    await self._policy_close(conn, None, "frame too large")
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(asyncio.shield(writer), 5.0)
                    break
                if not await self._on_frame(conn, text):
                    # A close is queued behind the error ack: let the writer send both.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(asyncio.shield(writer), 5.0)
                    break
        except ConnectionClosed:
            pass
        finally:
            self._conns.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            obs.closed_at = time.monotonic()
            self.observations.notify()

    async def _writer(self, conn: _Conn) -> None:
        while True:
            item = await conn.queue.get()
            if isinstance(item, tuple):
                await conn.ws.close(item[0], item[1])
                return
            try:
                await conn.ws.send(item)
            except ConnectionClosed:
                return
            conn.obs.frames_sent += 1
            self.observations.notify()

    def _ack(self, conn: _Conn, body: dict[str, Any], rid: Any) -> None:
        if rid is not None:
            body["rid"] = rid
        conn.queue.put_nowait(json.dumps(body, separators=(",", ":")))

    async def _policy_close(self, conn: _Conn, code: str | None, reason: str, rid: Any = None) -> None:
        if code is not None:
            self._ack(conn, {"op": "error", "code": code}, rid)
        conn.queue.put_nowait((4008, reason))

    async def _on_frame(self, conn: _Conn, text: str) -> bool:
        """Handle one client frame; False once the connection is being closed."""
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("op"), str):
            self._ack(conn, {"op": "error", "code": "bad_op"}, None)
            return True
        op, rid = frame["op"], frame.get("rid")
        if op == "ping":
            self._ack(conn, {"op": "pong"}, rid)
        elif op == "auth":
            return await self._auth(conn, frame, rid)
        elif op in ("subscribe", "unsubscribe"):
            return await self._subscription(conn, op, frame, rid)
        else:
            self._ack(conn, {"op": "error", "code": "bad_op"}, rid)
        return True

    async def _auth(self, conn: _Conn, frame: dict[str, Any], rid: Any) -> bool:
        conn.auth_frames += 1
        if conn.auth_frames > pb.MAX_AUTH_FRAMES:
            await self._policy_close(conn, "auth_attempts", "auth attempts", rid)
            return False
        trio = frame.get("auth")
        if not isinstance(trio, dict) or "ticket" in frame:
            self._ack(conn, {"op": "error", "code": "bad_op"}, rid)
            return True
        if self.faults.auth_unavailable > 0:
            self.faults.auth_unavailable -= 1
            self._ack(conn, {"op": "error", "code": "auth_unavailable"}, rid)
            return True
        address = self.authenticator.check_ws_auth(
            str(trio.get("apiKey", "")), str(trio.get("secret", "")), str(trio.get("passphrase", ""))
        )
        if address is None:
            if self.faults.close_4001_on_bad_auth:
                conn.queue.put_nowait((4001, "authentication failed"))
                return False
            self._ack(conn, {"op": "error", "code": "auth_invalid"}, rid)
            return True
        conn.address = address
        conn.obs.authenticated = True
        self._ack(conn, {"op": "authed"}, rid)
        return True

    def _items(self, frame: dict[str, Any]) -> list[Any]:
        if "subscriptions" in frame:
            items = frame["subscriptions"]
            return items if isinstance(items, list) and items else []
        return [{"channel": frame.get("channel"), "filter": frame.get("filter")}]

    async def _subscription(self, conn: _Conn, op: str, frame: dict[str, Any], rid: Any) -> bool:
        now = time.monotonic()
        times = conn.op_times
        times.append(now)
        while times and now - times[0] > 1.0:
            times.popleft()
        if len(times) > pb.MAX_SUBSCRIBE_FRAMES_PER_S:
            await self._policy_close(conn, "rate_limited", "rate limited", rid)
            return False
        items = self._items(frame)
        if not items:
            self._ack(conn, {"op": "error", "code": "bad_op"}, rid)
            return True
        for item in items:
            wire = item.get("channel") if isinstance(item, dict) else None
            filt = item.get("filter") if isinstance(item, dict) else None
            if wire not in pb.WIRE_CHANNELS:
                self._ack(conn, {"op": "error", "code": "bad_channel"}, rid)
                continue
            channel = pb.WIRE_CHANNELS[wire]
            symbol = str(filt.get("symbol", "")).lower() if isinstance(filt, dict) else ""
            pin = filt.get("provider") if isinstance(filt, dict) else None
            if symbol not in pb.SYMBOLS[channel] or (pin is not None and pin not in pb.PROVIDERS):
                self._ack(conn, {"op": "error", "code": "bad_filter", "channel": wire}, rid)
                continue
            forget = bool(conn.address) and op == "subscribe" and self.faults.auth_required > 0
            if not conn.address or forget:
                self.faults.auth_required -= forget
                self._ack(conn, {"op": "error", "code": "auth_required", "channel": wire}, rid)
                continue
            key = (wire, symbol, pin or "")
            if op == "unsubscribe":
                conn.subs.pop(key, None)
                conn.obs.topics.discard((wire, symbol))
                self._ack(conn, {"op": "unsubscribed", "channel": wire}, rid)
                continue
            if key not in conn.subs and len(conn.subs) >= pb.MAX_SUBSCRIPTIONS:
                await self._policy_close(conn, "sub_limit", "subscription limit", rid)
                return False
            source = _source(wire, symbol, pin)
            ack: dict[str, Any] = {"op": "subscribed", "channel": wire}
            if channel.startswith("equity"):
                ack["provider"] = source
            self._ack(conn, ack, rid)
            if key in conn.subs:
                continue  # a duplicate gets an ack and no snapshot
            conn.subs[key] = source
            conn.obs.topics.add((wire, symbol))
            self._last(wire, symbol)
            payload: dict[str, Any] = {
                "symbol": symbol,
                "source": source,
                "data": [
                    {"timestamp": ts, "value": float(v), "full_accuracy_value": f"{v:.8f}"}
                    for ts, v in self._history[(wire, symbol)]
                ],
            }
            if wire.endswith(".twap"):
                payload["window_seconds"] = pb.TWAP_WINDOW_S
            self._data(conn, wire, payload, snapshot=True)
        conn.obs.subscribed = bool(conn.subs)
        if conn.subs and self._on_subscribe is not None:
            self._on_subscribe("polybolt")
        self.observations.notify()
        return True

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
