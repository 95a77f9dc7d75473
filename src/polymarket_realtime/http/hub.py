"""The push hub: named channels with a dense per-channel seq, a bounded replay buffer each, and
bounded per-client queues. Sans-I/O apart from anyio memory streams.

``publish(channel, data)`` is synchronous and never blocks: it numbers the message, encodes it once,
keeps it in the channel's ring buffer and offers the text to every subscriber's queue; a subscriber
whose queue is full is dropped (its ``on_drop`` closes the socket) and counted, so a slow browser never
slows the feed or the services. The Redis bridge (``redis_bridge.py``) feeds a hub the same way, by calling
``publish`` for what it reads (see :class:`Publisher`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..storage.activity import ChangeSignal

__all__ = ["Attach", "Channel", "Client", "Hub", "Publisher", "encode"]

Frame = Callable[[str, int, Any], dict[str, Any]]


class Publisher(Protocol):
    """What a change source needs: the hub itself, or later a bridge that also forwards to Redis."""

    def publish(self, channel: str, data: Any) -> int: ...


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def event_frame(channel: str, seq: int, data: Any) -> dict[str, Any]:
    return {"type": "event", "channel": channel, "seq": seq, "data": data}


class Client:
    """One WebSocket's outgoing queue. ``offer`` never blocks; a full queue drops the client."""

    def __init__(self, queue_size: int, on_drop: Callable[[Client], None]) -> None:
        self._send: MemoryObjectSendStream[str]
        self.receive: MemoryObjectReceiveStream[str]
        self._send, self.receive = anyio.create_memory_object_stream[str](queue_size)
        self._on_drop = on_drop
        self.dropped = False

    def offer(self, text: str) -> bool:
        if self.dropped:
            return False
        try:
            self._send.send_nowait(text)
        except anyio.WouldBlock:
            self.dropped = True
            self._send.close()
            self._on_drop(self)
            return False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    def free(self) -> int:
        """Room left in the queue right now (texts ``offer`` can still add without dropping the client)."""
        stats = self._send.statistics()
        return max(0, int(stats.max_buffer_size) - stats.current_buffer_used)

    def close(self) -> None:
        self._send.close()


@dataclass(eq=False)
class Channel:
    name: str
    buffer_size: int
    frame: Frame = event_frame
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=deque)
    subscribers: set[Client] = field(default_factory=set)
    joining: int = 0
    """Subscribers reading their snapshot right now (see :meth:`Hub.joining`)."""
    skipped_at: int | None = None
    """A source left changes unpublished while nobody listened, after this seq: older ``since`` is a gap."""

    def oldest(self) -> int:
        """The oldest seq still replayable (``seq + 1`` when nothing is buffered)."""
        return self.buffer[0][0] if self.buffer else self.seq + 1


@dataclass
class Attach:
    """What a subscriber gets when it joins: either replayed texts, or a gap/fresh start needing a snapshot."""

    seq: int
    replay: list[str]
    needs_snapshot: bool
    gap: tuple[int, int] | None = None


class Hub:
    def __init__(self, *, buffer_size: int = 1000, client_queue: int = 1000) -> None:
        self.buffer_size = buffer_size
        self.client_queue = client_queue
        self._channels: dict[str, Channel] = {}
        self.epoch = secrets.token_hex(8)
        """Names this process's seqs (they restart at 0 with it): a ``since`` from another epoch is a gap."""
        self.published = 0
        self.sent = 0
        self.drops = 0
        self.clients: set[Client] = set()
        self.changed = ChangeSignal()
        """Notified after every publish and when a subscriber joins or leaves (free while nobody waits)."""
        self.watch_listeners: list[Callable[[str, bool], None]] = []
        """Called with ``(channel, True)`` when a channel gets its first subscriber, ``False`` at its last."""
        self.taps: list[Callable[[str, Any], None]] = []
        """Called with every published ``(channel, data)`` (the Redis bridge mirrors the owner's channels)."""
        self.mirrored: Callable[[str], bool] | None = None
        """Channels someone elsewhere listens to (other servers' dashboards): sources keep publishing them."""

    def channel(self, name: str, frame: Frame | None = None, *, buffer_size: int | None = None) -> Channel:
        found = self._channels.get(name)
        if found is None:
            found = Channel(name, buffer_size or self.buffer_size, frame or event_frame)
            self._channels[name] = found
        return found

    def has(self, name: str) -> bool:
        return name in self._channels

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def publish(self, channel: str, data: Any) -> int:
        ch = self.channel(channel)
        ch.seq += 1
        text = encode({**ch.frame(channel, ch.seq, data), "epoch": self.epoch})
        ch.buffer.append((ch.seq, text))
        if len(ch.buffer) > ch.buffer_size:
            ch.buffer.popleft()
        self.published += 1
        for tap in self.taps:
            tap(channel, data)
        for client in list(ch.subscribers):
            if client.offer(text):
                self.sent += 1
        self.changed.notify()
        return ch.seq

    def listened(self, name: str) -> bool:
        """Whether anyone subscribes to ``name``; if not, the channel is marked as having skipped changes.

        Sources call this before computing an expensive view: with no subscriber they skip the work, and
        a later ``since`` from before the skip gets a gap and a snapshot instead of a silent hole.
        """
        ch = self.channel(name)
        if ch.subscribers or ch.joining or (self.mirrored is not None and self.mirrored(name)):
            return True
        ch.skipped_at = ch.seq
        return False

    @contextlib.contextmanager
    def joining(self, name: str) -> Iterator[None]:
        """While a subscriber reads its snapshot: sources keep publishing (so nothing falls between the
        snapshot and the live events)."""
        ch = self.channel(name)
        ch.joining += 1
        try:
            yield
        finally:
            ch.joining -= 1

    def new_client(self, on_drop: Callable[[Client], None]) -> Client:
        def dropped(client: Client) -> None:
            self.drops += 1
            self.remove_client(client)
            on_drop(client)

        client = Client(self.client_queue, dropped)
        self.clients.add(client)
        return client

    def attach(
        self, name: str, client: Client, since: int | None, *, snapshot_taken: bool = False, epoch: str | None = None
    ) -> Attach:
        """Subscribe ``client`` to ``name`` and say what it missed; atomic (no await), so nothing slips between.

        ``snapshot_taken``: the client holds a snapshot read (while :meth:`joining`) after ``since`` was the
        channel's seq, so earlier skipped changes are in it; only the buffer must still reach back to ``since``.
        ``epoch``: the hub epoch ``since`` was seen in, if the client knows it; another one (a restarted
        server) makes ``since`` meaningless here, so everything this process numbered is a gap.
        """
        ch = self.channel(name)
        first = not ch.subscribers
        ch.subscribers.add(client)
        self.changed.notify()
        if first:
            self._watch(name, True)
        if since is None:
            return Attach(ch.seq, [], needs_snapshot=True)
        if epoch is not None and epoch != self.epoch:
            return Attach(ch.seq, [], needs_snapshot=True, gap=(1, ch.seq))
        if since > ch.seq:  # the server restarted since the client's last seq: start over
            return Attach(ch.seq, [], needs_snapshot=True, gap=(ch.seq + 1, since))
        if since + 1 < ch.oldest():
            return Attach(ch.seq, [], needs_snapshot=True, gap=(since + 1, ch.oldest() - 1))
        if not snapshot_taken and ch.skipped_at is not None and since <= ch.skipped_at:
            # Changes after skipped_at were never published (nobody listened): unknown, so start over.
            return Attach(ch.seq, [], needs_snapshot=True, gap=(since + 1, max(since + 1, ch.seq)))
        return Attach(ch.seq, [text for seq, text in ch.buffer if seq > since], needs_snapshot=False)

    def detach(self, name: str, client: Client) -> None:
        ch = self._channels.get(name)
        if ch is None or client not in ch.subscribers:
            return
        ch.subscribers.discard(client)
        self.changed.notify()
        if not ch.subscribers:
            self._watch(name, False)

    def remove_client(self, client: Client) -> None:
        """Forget ``client`` everywhere (it disconnected or was dropped)."""
        self.clients.discard(client)
        self.changed.notify()
        for ch in list(self._channels.values()):
            if client in ch.subscribers:
                self.detach(ch.name, client)
        client.close()

    def _watch(self, name: str, watching: bool) -> None:
        for listener in self.watch_listeners:
            listener(name, watching)

    def subscribers(self, name: str) -> int:
        ch = self._channels.get(name)
        return len(ch.subscribers) if ch is not None else 0
