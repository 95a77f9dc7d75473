"""The websocket side of the simulator: ``/ws/market``, ``/ws/user`` and RTDS on ``/``, one port.

Over 400 lines: three socket paths on one port share the connection table and the subscription index
that routes every frame; the frames themselves come from wire.py, user.py and rtds.py.

Each connection has an outgoing queue drained by its own writer task, so :meth:`WsServer.dispatch`
(called by the broadcast loop) never awaits a client and frames keep their order (an initial dump is
always sent before the updates that follow it). ``PONG`` and ``INVALID OPERATION`` bypass the queue,
as a venue answers them even while data is delayed or silenced.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .faults import Faults
from .observe import ConnectionObservation, Observations
from .source import BookSource
from .wire import OutFrame, dumps

__all__ = ["MARKET_PATH", "RTDS_PATH", "USER_PATH", "UserAuthenticator", "WsServer"]

logger = logging.getLogger(__name__)

MARKET_PATH = "/ws/market"
USER_PATH = "/ws/user"
RTDS_PATH = "/"
_CHANNELS = {MARKET_PATH: "market", USER_PATH: "user", RTDS_PATH: "rtds"}
_INVALID = "INVALID OPERATION"
_QUEUE_LIMIT = 250_000
"""Frames held for one slow client before newer ones are dropped (a venue would disconnect it)."""


class UserAuthenticator(Protocol):
    def check_ws_auth(self, api_key: str, secret: str, passphrase: str) -> str | None:
        """Address the trio was issued to, or None if it is unknown or revoked."""
        ...


@dataclass(frozen=True, slots=True)
class _Delay:
    seconds: float


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    channel: str
    obs: ConnectionObservation
    queue: asyncio.Queue[str | _Delay] = field(default_factory=asyncio.Queue)
    api_key: str = ""
    address: str = ""
    connection_id: str = ""

    def push(self, text: str) -> None:
        if self.queue.qsize() < _QUEUE_LIMIT:
            self.queue.put_nowait(text)
        else:
            self.obs.frames_dropped += 1


class WsServer:
    """Serves the three websocket channels. Create, then ``await start(host, port)``."""

    def __init__(
        self,
        *,
        source: BookSource,
        observations: Observations,
        authenticator: UserAuthenticator,
        dump_delay_s: float = 0.0,
        batch_frames: bool = False,
    ) -> None:
        self.source = source
        self.observations = observations
        self.authenticator = authenticator
        self.faults = Faults(self, observations, dump_delay_s=dump_delay_s)
        self.batch_frames = batch_frames
        self._ids = itertools.count(1)
        self._conns: set[_Conn] = set()
        self._by_asset: dict[str, set[_Conn]] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            compression=None,
            max_size=2**22,
            ping_interval=None,
        )
        sock = next(iter(self._server.sockets))
        self.port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ routing

    def dispatch(self, frames: Sequence[OutFrame]) -> int:
        """Queue ``frames`` for every connection they concern. Returns frames queued."""
        if self.faults.silent or not frames:
            return 0
        pending: dict[_Conn, list[str]] = {}
        for frame in frames:
            for conn in self._targets(frame):
                text = frame.text
                if conn.connection_id:
                    text = text[:-1] + f',"connection_id":"{conn.connection_id}"}}'
                pending.setdefault(conn, []).append(text)
        count = 0
        for conn, texts in pending.items():
            count += len(texts)
            if self.batch_frames and len(texts) > 1 and conn.channel == "market":
                conn.push("[" + ",".join(texts) + "]")
            else:
                for text in texts:
                    conn.push(text)
        return count

    def _targets(self, frame: OutFrame) -> list[_Conn]:
        if frame.channel == "market":
            audience = frame.audience
            if audience in ("assets", "assets_custom"):
                found: set[_Conn] = set()
                for asset in frame.asset_ids:
                    found |= self._by_asset.get(asset, set())
                if audience == "assets_custom":
                    return [c for c in found if c.obs.custom_features]
                return list(found)
            market_conns = [c for c in self._conns if c.channel == "market" and c.obs.subscribed]
            if audience == "all":
                return market_conns
            custom = [c for c in market_conns if c.obs.custom_features]
            if audience == "all_custom":
                return custom
            return [c for c in custom if not c.obs.assets or c.obs.assets.intersection(frame.asset_ids)]
        if frame.channel == "user":
            return [
                c
                for c in self._conns
                if c.channel == "user"
                and c.obs.authenticated
                and (not frame.owner or frame.owner == c.api_key)
                and (not c.obs.markets or frame.market in c.obs.markets)
            ]
        return [
            c
            for c in self._conns
            if c.channel == "rtds" and any(t == frame.topic and k in ("*", frame.event_type) for t, k in c.obs.topics)
        ]

    def user_connections(self) -> list[tuple[str, str, frozenset[str]]]:
        """(api_key, address, markets) of every authenticated user connection."""
        return [
            (c.api_key, c.address, frozenset(c.obs.markets))
            for c in self._conns
            if c.channel == "user" and c.obs.authenticated
        ]

    # ------------------------------------------------------------------ fault hooks

    def abort_all(self) -> int:
        conns = list(self._conns)
        for conn in conns:
            conn.ws.transport.abort()
        return len(conns)

    def close_all(self, code: int, reason: str) -> int:
        conns = list(self._conns)
        for conn in conns:
            self._spawn(conn.ws.close(code, reason))
        return len(conns)

    def push_all(self, texts_by_channel: dict[str, str]) -> int:
        count = 0
        for conn in self._conns:
            text = texts_by_channel.get(conn.channel)
            if text is not None:
                conn.push(text)
                count += 1
        return count

    async def broadcast_raw(self, path: str, text: str) -> int:
        """Send ``text`` to every open connection on ``path`` (after what is already queued)."""
        channel = _CHANNELS.get(path)
        targets = [c for c in self._conns if c.channel == channel]
        for conn in targets:
            conn.push(text)
        return len(targets)

    # ------------------------------------------------------------------ handshake

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path or "/"
        if path not in _CHANNELS:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if self.faults.refusing:
            self.observations.refused += 1
            self.observations.notify()
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "simulated outage\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        path = urlsplit(ws.request.path if ws.request else "/").path or "/"
        channel = _CHANNELS[path]
        conn_id = next(self._ids)
        conn = _Conn(ws=ws, channel=channel, obs=self.observations.connection_opened(conn_id, path))
        if channel == "rtds":
            conn.connection_id = f"sim{conn_id:08d}"
        self._conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                conn.obs.frames.append((time.monotonic(), text))
                if text.strip() in ("PING", "ping"):
                    conn.obs.pings.append(time.monotonic())
                    self.observations.notify()
                    await ws.send("PONG")
                    continue
                if channel == "market":
                    reply = self._on_market_frame(conn, text)
                elif channel == "user":
                    reply = self._on_user_frame(conn, text)
                else:
                    reply = self._on_rtds_frame(conn, text)
                self.observations.notify()
                if reply == "abort":
                    ws.transport.abort()
                    break
                if reply is not None:
                    conn.obs.invalid_operations += 1
                    await ws.send(reply)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._conns.discard(conn)
            for asset in conn.obs.assets:
                self._unindex(conn, asset)
            conn.obs.closed_at = time.monotonic()
            self.observations.notify()

    async def _writer(self, conn: _Conn) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                item = await conn.queue.get()
                if isinstance(item, _Delay):
                    await asyncio.sleep(item.seconds)
                    continue
                await conn.ws.send(item)
                conn.obs.frames_sent += 1

    # ------------------------------------------------------------------ market channel

    def _on_market_frame(self, conn: _Conn, text: str) -> str | None:
        obj = _load_object(text)
        if obj is None:
            return _INVALID
        assets = obj.get("assets_ids")
        if not isinstance(assets, list) or not all(isinstance(a, str) for a in assets):
            return _INVALID
        kind = obj.get("type")
        operation = obj.get("operation")
        if "custom_feature_enabled" in obj:
            conn.obs.custom_features = bool(obj["custom_feature_enabled"])
        dump = obj.get("initial_dump", True) is not False
        if isinstance(kind, str) and kind.lower() == "market":
            conn.obs.subscribed = True
            self._subscribe(conn, assets, dump=dump)
        elif conn.obs.subscribed and operation == "subscribe":
            self._subscribe(conn, [a for a in assets if a not in conn.obs.assets], dump=dump)
        elif conn.obs.subscribed and operation == "unsubscribe":
            for asset in assets:
                if asset in conn.obs.assets:
                    conn.obs.assets.discard(asset)
                    self._unindex(conn, asset)
        else:
            return _INVALID
        return None

    def _subscribe(self, conn: _Conn, assets: list[str], *, dump: bool) -> None:
        self._notify_subscribe("market")
        unique = list(dict.fromkeys(assets))
        books = []
        for asset in unique:
            conn.obs.assets.add(asset)
            self._by_asset.setdefault(asset, set()).add(conn)
            if dump and self.source.is_known(asset):
                book = self.source.book_event(asset)
                if book is not None:
                    books.append(book)
        if not dump or not unique:
            return
        if self.faults.dump_delay_s > 0:
            conn.queue.put_nowait(_Delay(self.faults.dump_delay_s))
        # One array holding one book per known token; a bare [] when none is known
        # [docs/polymarket-protocol.md#clob-ws-frames, LIVE].
        conn.push(dumps(books))

    def _unindex(self, conn: _Conn, asset: str) -> None:
        holders = self._by_asset.get(asset)
        if holders is not None:
            holders.discard(conn)
            if not holders:
                del self._by_asset[asset]

    # ------------------------------------------------------------------ user channel

    def _on_user_frame(self, conn: _Conn, text: str) -> str | None:
        obj = _load_object(text)
        if obj is None:
            return _INVALID
        markets = obj.get("markets", [])
        if not isinstance(markets, list) or not all(isinstance(m, str) for m in markets):
            return _INVALID
        if not conn.obs.subscribed:
            kind = obj.get("type")
            if not isinstance(kind, str) or kind.lower() != "user":
                return _INVALID
            auth = obj.get("auth")
            creds = [auth.get(k) for k in ("apiKey", "secret", "passphrase")] if isinstance(auth, dict) else []
            if len(creds) != 3 or not all(isinstance(c, str) for c in creds):
                return "abort"
            address = self.authenticator.check_ws_auth(str(creds[0]), str(creds[1]), str(creds[2]))
            if address is None:
                # The venue resets the connection on bad credentials; no error message
                # [docs/polymarket-protocol.md#clob-ws-errors].
                return "abort"
            conn.api_key, conn.address = str(creds[0]), address
            conn.obs.subscribed = conn.obs.authenticated = True
            conn.obs.markets.update(markets)
            return None
        operation = obj.get("operation")
        if operation == "subscribe":
            conn.obs.markets.update(markets)
        elif operation == "unsubscribe":
            conn.obs.markets.difference_update(markets)
        else:
            return _INVALID
        return None

    # ------------------------------------------------------------------ RTDS

    def _on_rtds_frame(self, conn: _Conn, text: str) -> str | None:
        obj = _load_object(text)
        subs = obj.get("subscriptions") if obj is not None else None
        action = obj.get("action") if obj is not None else None
        if action not in ("subscribe", "unsubscribe") or not isinstance(subs, list):
            return None  # undocumented reply; the venue "may close", we just ignore it
        conn.obs.subscribed = True
        if action == "subscribe":
            self._notify_subscribe("rtds")
        for sub in subs:
            if not isinstance(sub, dict) or not isinstance(sub.get("topic"), str):
                continue
            key = (str(sub["topic"]), str(sub.get("type") or "*"))
            # Filters are ignored on purpose: the venue's are unreliable, clients must filter locally.
            if action == "subscribe":
                conn.obs.topics.add(key)
            else:
                conn.obs.topics.discard(key)
        return None

    def _notify_subscribe(self, channel: str) -> None:
        # Optional source hook (a recording replay starts its clock on the first subscription).
        hook = getattr(self.source, "on_subscribe", None)
        if hook is not None:
            hook(channel)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _load_object(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None
