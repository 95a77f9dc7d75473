"""WebSocket endpoints: ``/ws`` (channel push) and ``/ws/sessions/{session_id}`` (a session's commands).

Each socket has one bounded outgoing queue (:class:`~.hub.Client`) drained by its own sender task, so a
slow browser only ever fills its own queue; when it overflows the hub drops the client and this side
closes the socket (code 1013, "too slow"). Client messages are JSON objects with a ``type``; anything
else gets an ``error`` message and the socket stays open.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..app.validation import check_token_id
from ..errors import NotFoundError, PolymarketRealtimeError
from ..secrets import redactor
from .calls import ApiError
from .hub import Client, Hub, encode
from .sources import Sources, commands_channel

__all__ = ["SessionStream", "WsEndpoint", "channel_ok"]

log = logging.getLogger(__name__)

FIXED_CHANNELS = ("system", "activity", "sessions", "agents")
MAX_CHANNELS = 200
_SNAPSHOT_TRIES = 3


def channel_ok(sources: Sources, name: Any) -> str:
    """The channel name if it is one we serve; raises with a message saying what is accepted."""
    if not isinstance(name, str) or not name:
        raise ValueError("channel names are strings")
    if name in FIXED_CHANNELS:
        return name
    if name.startswith("logs:"):
        agents = sources.agents
        if agents is None and sources.remote is not None:
            return name  # Redis mode: the owner has the agent; its snapshot answer says if it is unknown
        if agents is None:
            raise ValueError("agent logs are not available in this server")
        agents.view(name.removeprefix("logs:"))  # NotFoundError for an unknown agent
        return name
    if name.startswith("market:"):
        return "market:" + check_token_id(name.removeprefix("market:"))
    raise ValueError(
        f"unknown channel {name[:80]!r}; channels: system, activity, sessions, agents, logs:<agent_id>, "
        "market:<token_id>"
    )


class _Socket:
    """A WebSocket plus its hub client and the task that drains the client's queue into the socket."""

    def __init__(self, ws: WebSocket, hub: Hub) -> None:
        self.ws = ws
        self.hub = hub
        self.dropped = anyio.Event()
        self.client: Client = hub.new_client(lambda _c: self.dropped.set())

    def send(self, message: dict[str, Any]) -> None:
        self.client.offer(encode(message))

    async def pump(self) -> None:
        async for text in self.client.receive:
            await self.ws.send_text(text)

    async def run(self, handle: Any) -> None:
        """Serve until the peer leaves or is dropped; always detaches from the hub."""
        try:
            async with anyio.create_task_group() as tg:

                async def watch_drop() -> None:
                    await self.dropped.wait()
                    tg.cancel_scope.cancel()

                async def pump_then_stop() -> None:
                    try:
                        await self.pump()
                    finally:
                        tg.cancel_scope.cancel()

                async def receive_then_stop() -> None:
                    try:
                        await self._receive(handle)
                    finally:
                        tg.cancel_scope.cancel()

                tg.start_soon(watch_drop)
                tg.start_soon(pump_then_stop)
                tg.start_soon(receive_then_stop)
        except Exception as exc:  # a dead peer shows up here as a send/receive error
            log.debug("websocket ended: %r", exc)
        finally:
            self.hub.remove_client(self.client)
            self.client.receive.close()
        if self.dropped.is_set():
            with anyio.move_on_after(1), contextlib.suppress(Exception):  # the peer may be gone already
                await self.ws.close(1013, "too slow: the outgoing queue overflowed")

    async def _receive(self, handle: Any) -> None:
        while True:
            try:
                frame = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return  # peer gone
            if frame["type"] == "websocket.disconnect":
                return
            raw = frame.get("text")
            if raw is None:  # a binary frame
                self.send({"type": "error", "error": "bad_message", "detail": "messages are JSON text frames"})
                continue
            try:
                message = json.loads(raw)
            except ValueError:
                self.send({"type": "error", "error": "bad_json", "detail": "messages are JSON objects"})
                continue
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                self.send({"type": "error", "error": "bad_message", "detail": 'messages are objects with a "type"'})
                continue
            try:
                await handle(message)
            except PolymarketRealtimeError as exc:
                self.send({"type": "error", "error": "failed", "detail": redactor.scrub(str(exc))})


class WsEndpoint:
    """``/ws``: subscribe/unsubscribe to channels, ping."""

    def __init__(self, hub: Hub, sources: Sources) -> None:
        self.hub = hub
        self.sources = sources

    async def __call__(self, ws: WebSocket) -> None:
        await ws.accept()
        sock = _Socket(ws, self.hub)
        subscribed: set[str] = set()

        async def handle(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "ping":
                sock.send({"type": "pong", "ts": self.sources.app.clock.time_ns() // 1_000_000})
            elif kind in ("subscribe", "unsubscribe"):
                channels = message.get("channels")
                since = message.get("since") or {}
                epoch = message.get("epoch")
                if not isinstance(channels, list) or not isinstance(since, dict) or not isinstance(epoch, str | None):
                    sock.send(
                        {
                            "type": "error",
                            "error": "bad_message",
                            "detail": '"channels" must be a list, "since" an object and "epoch" a string',
                        }
                    )
                    return
                # Replays of one message share half the queue's free room: a reconnect with ``since`` for
                # many busy channels must not overflow it (1013, and the page would retry the same since).
                budget = [sock.client.free() // 2]
                for raw in channels:
                    try:
                        name = channel_ok(self.sources, raw)
                    except (ValueError, PolymarketRealtimeError) as exc:
                        sock.send({"type": "error", "error": "bad_channel", "detail": redactor.scrub(str(exc))})
                        continue
                    if kind == "unsubscribe":
                        self.hub.detach(name, sock.client)
                        subscribed.discard(name)
                        continue
                    if name in subscribed:
                        if message.get("fresh") is not True:
                            continue
                        # The page's resync after a hole: start this channel over with a new snapshot.
                        self.hub.detach(name, sock.client)
                        subscribed.discard(name)
                    if len(subscribed) >= MAX_CHANNELS:
                        sock.send({"type": "error", "error": "too_many", "detail": f"at most {MAX_CHANNELS} channels"})
                        continue
                    last = since.get(raw, since.get(name))
                    if message.get("fresh") is True:
                        last = None
                    if last is not None and not (type(last) is int and last >= 0):
                        sock.send(
                            {
                                "type": "error",
                                "error": "bad_message",
                                "detail": f"since[{name[:80]!r}] must be a seq (an integer >= 0); sending a snapshot",
                            }
                        )
                    since_seq = last if type(last) is int and last >= 0 else None
                    await self._subscribe(sock, name, since_seq, budget, epoch)
                    subscribed.add(name)
            else:
                sock.send({"type": "error", "error": "bad_message", "detail": f"unknown message type {kind[:40]!r}"})

        await sock.run(handle)

    async def _subscribe(
        self, sock: _Socket, name: str, since: int | None, budget: list[int], epoch: str | None = None
    ) -> None:
        """Join ``name``: replay what was missed since ``since`` if it fits in ``budget`` (texts, shared by
        the channels of one message and decremented here), else ``gap`` and a fresh snapshot."""
        if since is not None:
            attach = self.hub.attach(name, sock.client, since, epoch=epoch)
            if not attach.needs_snapshot and len(attach.replay) <= budget[0]:
                budget[0] -= len(attach.replay)
                for text in attach.replay:
                    sock.client.offer(text)
                return
            gap = attach.gap if attach.gap is not None else (since + 1, attach.seq)
            sock.send({"type": "gap", "channel": name, "from_seq": gap[0], "to_seq": gap[1], "epoch": self.hub.epoch})
            self.hub.detach(name, sock.client)
        with self.hub.joining(name):
            await self._snapshot(sock, name)

    async def _snapshot(self, sock: _Socket, name: str) -> None:
        for _ in range(_SNAPSHOT_TRIES):
            seq0 = self.hub.channel(name).seq
            try:
                data = await self.sources.snapshot(name)
            except (PolymarketRealtimeError, ValueError) as exc:
                sock.send({"type": "error", "error": "bad_channel", "detail": redactor.scrub(str(exc))})
                return
            except ApiError as exc:  # Redis mode: the owner's answer (or no_owner)
                sock.send({"type": "error", **exc.body()})
                return
            # Atomic from here: the snapshot, then whatever was published after seq0.
            attach = self.hub.attach(name, sock.client, seq0, snapshot_taken=True)
            if attach.needs_snapshot:  # the buffer rolled past seq0 while reading; read again
                self.hub.detach(name, sock.client)
                continue
            sock.send({"type": "snapshot", "channel": name, "seq": seq0, "epoch": self.hub.epoch, "data": data})
            for text in attach.replay:
                sock.client.offer(text)
            return
        sock.send({"type": "error", "error": "busy", "detail": f"channel {name} changes too fast to snapshot"})


class SessionStream:
    """``/ws/sessions/{session_id}``: every command of one session, in order, to every client."""

    def __init__(self, hub: Hub, sources: Sources) -> None:
        self.hub = hub
        self.sources = sources

    async def __call__(self, ws: WebSocket) -> None:
        session_id = str(ws.path_params.get("session_id", ""))
        paper = self.sources.paper
        remote = self.sources.remote
        await ws.accept()
        if paper is None and remote is None:
            await ws.close(4503, "paper sessions are not running in this server")
            return
        try:
            if paper is not None:
                paper.state_of(session_id)
            elif remote is not None:  # Redis mode: the owner knows the session; its commands come through the hub
                await remote("tool", {"name": "get_paper_session", "arguments": {"session_id": session_id}})
        except NotFoundError:
            await ws.close(4404, f"unknown session {session_id[:80]}")
            return
        except ApiError as exc:
            if exc.status == 404:
                await ws.close(4404, f"unknown session {session_id[:80]}")
            else:
                await ws.close(4503, exc.detail[:120])
            return
        name = commands_channel(self.hub, session_id)
        sock = _Socket(ws, self.hub)
        raw_since = ws.query_params.get("since")
        since_ok = raw_since is not None and raw_since.isascii() and raw_since.isdigit()
        since = int(raw_since) if raw_since is not None and since_ok else None
        if raw_since is not None and not since_ok:
            detail = "since must be a seq (an integer >= 0); the stream starts now"
            sock.send({"type": "error", "error": "bad_since", "detail": detail})
        gap: tuple[int, int] | None = None
        epoch = ws.query_params.get("epoch")
        if since is not None and epoch is not None and epoch != self.hub.epoch:
            # Seqs of another process (the server restarted): replay all that is buffered, after a gap.
            oldest = self.hub.channel(name).oldest()
            since, gap = oldest - 1, (1, oldest - 1)
        attach = self.hub.attach(name, sock.client, since if since is not None else self.hub.channel(name).seq)
        gap = gap or attach.gap
        if gap is not None:
            sock.send(
                {"type": "gap", "session_id": session_id, "from_seq": gap[0], "to_seq": gap[1], "epoch": self.hub.epoch}
            )
        for text in attach.replay:
            sock.client.offer(text)

        async def handle(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "ping":
                sock.send({"type": "pong", "ts": self.sources.app.clock.time_ns() // 1_000_000})
            elif kind == "get_status":
                if paper is not None:
                    sock.send({"type": "status", "data": (await paper.get_session(session_id)).model_dump(mode="json")})
                elif remote is not None:
                    try:
                        args = {"name": "get_paper_session", "arguments": {"session_id": session_id}}
                        sock.send({"type": "status", "data": await remote("tool", args)})
                    except ApiError as exc:
                        sock.send({"type": "error", **exc.body()})
            else:
                sock.send({"type": "error", "error": "bad_message", "detail": f"unknown message type {kind[:40]!r}"})

        await sock.run(handle)
