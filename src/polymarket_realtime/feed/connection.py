"""One WebSocket to the venue: our reconnect loop, keepalive, data-silence watchdog, frame intake.

Over 400 lines: one connection's attempt loop, keepalive and intake share its state; split further only by noun.

:class:`FeedConnection` drives ``websockets``' asyncio client one attempt at a time inside *our* loop,
so the retry policy (:class:`~.backoff.Backoff` with an injected RNG, :func:`~.backoff.is_retryable`)
is ours and testable. Per attempt:

1. wait the backoff delay (none before the first attempt; a small stagger when many shards open);
2. connect with ``compression=None`` (permessage-deflate, websockets' default, costs 2-3x client CPU
   per message and the venue's frames are small) and ``max_size=settings.max_frame_bytes``; a bigger
   frame closes the socket with 1009 and we reconnect;
3. send the channel's initial frame(s) for the *current desired set* (subscriptions never survive a
   reconnect, docs/polymarket-protocol.md#clob-ws-reconnect);
4. read frames until something fails. Each frame is stamped once with ``clock.time_ns()``, handed to the
   raw taps, parsed by the channel adapter and passed to ``on_frame`` (the manager's pipeline). Bad
   frames are counted, never fatal.

Liveness, per channel (see :class:`ChannelSpec`): a text ``PING`` every ``ping_interval_s`` and the
socket is declared dead when *nothing* (``PONG`` or data) arrived for ``pong_timeout_s``; a data-silence
watchdog reconnects when no *event* arrived for ``idle_timeout_s``, because the venue's sockets can stay
open and answer ``PING`` while sending nothing for hours (docs/polymarket-protocol.md#clob-ws-silent-freeze). The user
channel has no watchdog:
an account can be quiet for days. The timing is :mod:`.keepalive`'s: one loop sleeps exactly until the
earliest deadline, on the injected clock and ``sleep`` (so tests check the cadence on a virtual clock).

The backoff resets once a connection proved healthy: its first event arrived (for channels without a
data watchdog, its first ``PONG``). A socket closed abruptly before that, right after the initial
frame, on a channel that authenticates, is reported as rejected credentials and the next attempt asks
the credentials provider to refresh (once per streak of rejections).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..venues.polymarket.parsing import ParsedFrame
from .backoff import Backoff, is_retryable
from .keepalive import KeepalivePolicy, KeepaliveSchedule, Sleep, run_keepalive

__all__ = [
    "Channel",
    "ChannelSpec",
    "ConnectionState",
    "FeedConnection",
    "RawTap",
]

logger = logging.getLogger(__name__)

Channel = Literal["market", "user", "rtds", "sports"]
ConnectionState = Literal["idle", "connecting", "connected", "backoff", "stopped", "failed"]
RawTap = Callable[[str, int, "str | bytes"], None]
"""``callback(channel, ts_recv_ns, frame)``; called synchronously for every frame received."""

_REJECT_WINDOW_S = 5.0
"""A user socket closed this soon after auth, before any PONG or event, means rejected credentials."""
_LOG_EVERY_S = 10.0
# websockets logs every frame at DEBUG (the record's args hold the whole frame), and the user channel's
# first frame carries the API credential trio while its events carry the API key as ``owner``: sockets
# that authenticate log through this logger, pinned to INFO so a DEBUG root cannot capture them.
_QUIET_WS_LOGGER = logging.getLogger(__name__ + ".authenticated_frames")
_QUIET_WS_LOGGER.setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """How one kind of socket behaves."""

    channel: Channel
    url: str
    ping_interval_s: float | None
    """Client ping cadence; None = the client never pings (the server pings and the reader answers)."""
    pong_timeout_s: float
    idle_timeout_s: float | None
    """Data-silence watchdog; None = pong-based liveness only."""
    parse: Callable[[str | bytes, int], ParsedFrame]
    authenticates: bool = False
    rejected_advice: str = ""
    """What to do when the credentials are rejected again after the one refresh (authenticating sockets)."""
    ping_frame: str = "PING"
    ping_on_open: bool = False
    """Ping right after the initial frames: on an authenticating socket the answer proves the credentials."""
    answers: Mapping[str, str] = field(default_factory=dict)
    """Control frame -> text sent back at once, for servers that ping us (sports: ``ping`` -> ``pong``).
    Such channels set ``ping_interval_s=None`` (we never ping) and ``pong_timeout_s`` is then the
    longest silence (no heartbeat, no data) before the socket is presumed dead."""

    def keepalive(self) -> KeepalivePolicy:
        return KeepalivePolicy(
            ping_interval_s=self.ping_interval_s,
            pong_timeout_s=self.pong_timeout_s,
            idle_timeout_s=self.idle_timeout_s,
            ping_frame=self.ping_frame,
            ping_on_open=self.ping_on_open,
        )


FrameHandler = Callable[["FeedConnection", ParsedFrame, int], None]
"""``on_frame(connection, parsed_frame, ts_recv_ns)``: the pipeline, called inline by the reader."""


class FeedConnection:
    """One socket of one channel (a market shard, the user channel or RTDS).

    Args:
        connection_id: e.g. ``market-0``; shown in status and in ``FeedStatus`` events.
        spec: channel behaviour.
        settings: limits and backoff base/max.
        initial_frames: ``await initial_frames(refresh)`` -> frames to send right after connecting, for
            the desired set at that moment (``refresh`` asks for fresh credentials on the user channel).
        on_frame: the pipeline; called for every parsed frame (must not block).
        on_connected / on_disconnected: lifecycle hooks (mark books stale, schedule resyncs).
        taps: raw-frame callbacks shared with the manager (the list object is kept, not copied).
        backoff: reconnect delays (inject a seeded RNG in tests).
        clock / sleep: time for the keepalive timing (inject a virtual clock and its sleep in tests).
        start_delay_s: wait before the first attempt (staggers opening many shards: 429s otherwise).
    """

    def __init__(
        self,
        connection_id: str,
        spec: ChannelSpec,
        settings: Settings,
        *,
        initial_frames: Callable[[bool], Awaitable[Sequence[str]]],
        on_frame: FrameHandler,
        on_connected: Callable[[FeedConnection], None] | None = None,
        on_disconnected: Callable[[FeedConnection, str], None] | None = None,
        taps: list[RawTap] | None = None,
        backoff: Backoff,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep = anyio.sleep,
        start_delay_s: float = 0.0,
        assets: Callable[[], int] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.spec = spec
        self.settings = settings
        self.backoff = backoff
        self._initial_frames = initial_frames
        self._on_frame = on_frame
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._taps = taps if taps is not None else []
        self._clock = clock
        self._sleep = sleep
        self._start_delay_s = start_delay_s
        self._assets = assets
        self._ws: ClientConnection | None = None
        self._scope: anyio.CancelScope | None = None
        self._stopped = False
        # Status.
        self.state: ConnectionState = "idle"
        self.connected_since: float | None = None
        """Wall-clock seconds of the current connection's open."""
        self.reconnects = 0
        self.attempts = 0
        self.last_error: str | None = None
        self.last_message_at: float | None = None
        self.last_delay_s: float | None = None
        self.frames = 0
        self.malformed = 0
        self.unknown = 0
        self.controls = 0
        self.invalid_operations = 0
        self.answered = 0
        """Server heartbeats answered (``spec.answers``)."""
        self.opened_at_monotonic: float | None = None
        self.first_event_at_monotonic: float | None = None
        self.disconnected_at_monotonic: float | None = None
        # Per attempt.
        self._last_rx = 0.0
        self._last_event = 0.0
        self._healthy = False
        self._attempt_rejected = False
        self._refresh_next = False
        self._refreshed_in_streak = False
        self._pending_reason: str | None = None
        self._ever_connected = False
        self._last_log = 0.0
        self.auth_problem: str | None = None
        """Why authentication keeps failing (with advice); None once a connection proved healthy."""
        self.rejected = False
        """The last attempt's credentials were refused (the socket closed right after auth)."""
        self.first_attempt_settled = anyio.Event()
        """Set once the first attempt has an outcome: healthy, or over (closed, refused, unreachable)."""
        self.pings_sent = 0
        self.last_ping_at: float | None = None
        """Monotonic time (the injected clock's) of the last keepalive ping sent."""

    # --- control ----------------------------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def connected(self) -> bool:
        return self._ws is not None and self.state == "connected"

    @property
    def healthy(self) -> bool:
        """Connected, and the connection proved itself (first event, or first PONG without a watchdog)."""
        return self._healthy and self.connected

    async def send(self, frame: str) -> bool:
        """Send an operation frame if connected; False when not (the next initial frame covers it)."""
        ws = self._ws
        if ws is None or self.state != "connected":
            return False
        try:
            await ws.send(frame)
        except ConnectionClosed:
            return False
        return True

    def force_reconnect(self, reason: str = "forced reconnect") -> None:
        """Close the current socket into the reconnect loop (no-op when not connected)."""
        self._pending_reason = reason
        ws = self._ws
        if ws is not None:
            # Abort rather than a polite close: a silent peer would make close() wait for its timeout.
            ws.transport.abort()

    def stop(self) -> None:
        """Stop for good (the socket is closed; ``run`` returns)."""
        self._stopped = True
        if self._scope is not None:
            self._scope.cancel()

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff until :meth:`stop`. Returns on stop or fatal error."""
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._stopped:
                return
            if self._start_delay_s > 0:
                await anyio.sleep(self._start_delay_s)
            while not self._stopped:
                try:
                    await self._attempt()
                except Exception as exc:
                    if not is_retryable(exc):
                        self.state = "failed"
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        logger.exception("%s: fatal error, connection stopped", self.connection_id)
                        self.first_attempt_settled.set()
                        return
                    self._record_error(exc)
                self.rejected = self._attempt_rejected  # changes only when an attempt is over
                self.first_attempt_settled.set()
                if self.stopped:
                    break
                delay = self.backoff.next_delay()
                self.last_delay_s = delay
                self.state = "backoff"
                logger.info("%s: reconnecting in %.2fs (%s)", self.connection_id, delay, self.last_error or "closed")
                await anyio.sleep(delay)
        self.state = "stopped"
        self._ws = None

    async def _attempt(self) -> None:
        self.state = "connecting"
        self.attempts += 1
        self._attempt_rejected = False
        self._healthy = False
        refresh = self._refresh_next
        self._refresh_next = False
        frames = await self._initial_frames(refresh)
        host = urlsplit(self.spec.url).hostname or ""
        ws = await connect(
            self.spec.url,
            compression=None,
            max_size=self.settings.max_frame_bytes,
            # Our own text PING/PONG is the venue's documented keepalive; protocol pings would be a
            # second, redundant timer.
            ping_interval=None,
            open_timeout=self.settings.http_timeout_s,
            close_timeout=1.0,
            max_queue=64,
            # Never route loopback (simulator, replay) through a proxy from the environment.
            proxy=None if host in ("127.0.0.1", "localhost", "::1") else True,
            logger=_QUIET_WS_LOGGER if self.spec.authenticates else None,
        )
        sent_at = self._clock.monotonic()
        reason = "closed"
        try:
            self._ws = ws
            if self._ever_connected:
                self.reconnects += 1
            self._ever_connected = True
            for frame in frames:
                await ws.send(frame)
            now = self._clock.monotonic()
            self._last_rx = self._last_event = now
            self.opened_at_monotonic = now
            self.first_event_at_monotonic = None
            self.connected_since = self._clock.time_ns() / 1e9
            self.state = "connected"
            logger.info("%s: connected to %s", self.connection_id, self.spec.url)
            if self._on_connected is not None:
                self._on_connected(self)
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._keepalive)
                closed = await self._read(ws)
                tg.cancel_scope.cancel()
            if closed is None:
                reason = self._pending_reason or "closed by the venue"
            else:
                if self._pending_reason is None:
                    self._classify_close(closed, sent_at)
                reason = self._pending_reason or _describe_close(closed)
            self.last_error = reason
        finally:
            self._pending_reason = None
            self._ws = None
            self.connected_since = None
            self.disconnected_at_monotonic = self._clock.monotonic()
            if not self._stopped:
                self.state = "backoff"
            with anyio.CancelScope(shield=True):
                await ws.close()
            if self._on_disconnected is not None:
                self._on_disconnected(self, reason)
        logger.info("%s: disconnected (%s)", self.connection_id, reason)

    async def _read(self, ws: ClientConnection) -> ConnectionClosed | None:
        """Serve frames until the socket closes; returns the close (never raises it)."""
        try:
            await self._read_frames(ws)
        except ConnectionClosed as exc:
            return exc
        return None

    async def _read_frames(self, ws: ClientConnection) -> None:
        spec = self.spec
        parse = spec.parse
        clock = self._clock
        taps = self._taps
        channel = spec.channel
        on_frame = self._on_frame
        answers = spec.answers
        async for message in ws:
            ts = clock.time_ns()
            now = clock.monotonic()
            self._last_rx = now
            self.last_message_at = now
            self.frames += 1
            for tap in taps:
                try:
                    tap(channel, ts, message)
                except Exception:
                    logger.exception("raw tap failed")
            frame = parse(message, ts)
            if frame.malformed or frame.unknown:
                self.malformed += frame.malformed
                self.unknown += frame.unknown
                self._log_bad(frame, message)
            if frame.control is not None:
                self.controls += 1
                if frame.control == "invalid_operation":
                    self.invalid_operations += 1
                    self._log_bad(frame, message)
                elif frame.control == "pong" and not self._healthy and spec.idle_timeout_s is None:
                    self._mark_healthy(now)
                reply = answers.get(frame.control) if answers else None
                if reply is not None:
                    # Answered inline, as soon as it is parsed: the server closes the socket when a pong is late.
                    await ws.send(reply)
                    self.answered += 1
                    if not self._healthy and spec.idle_timeout_s is None:
                        self._mark_healthy(now)
            if frame.events:
                self._last_event = now
                if not self._healthy:
                    self._mark_healthy(now)
            try:
                on_frame(self, frame, ts)
            except Exception:
                # A pipeline bug must not tear the socket down (it would reconnect-loop forever).
                logger.exception("%s: frame pipeline failed", self.connection_id)

    def _mark_healthy(self, now: float) -> None:
        self._healthy = True
        self.rejected = False
        self.first_attempt_settled.set()
        self._refreshed_in_streak = False
        self.auth_problem = None
        self.first_event_at_monotonic = now
        self.backoff.reset()

    async def _keepalive(self) -> None:
        ws = self._ws
        assert ws is not None

        async def send_ping(frame: str) -> bool:
            try:
                await ws.send(frame)
            except ConnectionClosed:
                return False
            return True

        def on_ping(now: float) -> None:
            self.pings_sent += 1
            self.last_ping_at = now

        opened = self.opened_at_monotonic if self.opened_at_monotonic is not None else self._clock.monotonic()
        await run_keepalive(
            KeepaliveSchedule(self.spec.keepalive(), opened),
            clock=self._clock,
            sleep=self._sleep,
            last_rx=lambda: self._last_rx,
            last_event=lambda: self._last_event,
            send_ping=send_ping,
            on_ping=on_ping,
            on_failure=self._die,
        )

    def _die(self, reason: str) -> None:
        logger.warning("%s: %s", self.connection_id, reason)
        self.force_reconnect(reason)

    # --- errors -----------------------------------------------------------------------------------

    def _classify_close(self, exc: ConnectionClosed, sent_at: float) -> None:
        if not self.spec.authenticates or self._healthy:
            return
        if exc.rcvd is None and self._clock.monotonic() - sent_at <= _REJECT_WINDOW_S:
            # The venue resets the socket on bad credentials instead of answering
            # (docs/polymarket-protocol.md#clob-ws-errors).
            self._attempt_rejected = True
            if not self._refreshed_in_streak:
                self._pending_reason = (
                    "user channel rejected the credentials (socket closed right after auth); "
                    "refreshing them before the next attempt"
                )
                self._refresh_next = True
                self._refreshed_in_streak = True
            else:
                # Refreshing did not help: say what to do, keep retrying with backoff (it may be transient).
                self._pending_reason = self.auth_problem = (
                    "user channel rejected the credentials again after refreshing them"
                    + (f": {self.spec.rejected_advice}" if self.spec.rejected_advice else "")
                    + "; retrying with backoff"
                )

    def _record_error(self, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        self.last_error = f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text
        logger.info("%s: attempt failed: %s", self.connection_id, self.last_error)

    def _log_bad(self, frame: ParsedFrame, message: str | bytes) -> None:
        # Rate-limited: a venue bug can send thousands of bad frames per second.
        now = self._clock.monotonic()
        if now - self._last_log >= _LOG_EVERY_S:
            self._last_log = now
            logger.debug(
                "%s: skipped frame (malformed=%d unknown=%s control=%s): %.200r",
                self.connection_id,
                frame.malformed,
                frame.unknown_types,
                frame.control,
                message,
            )

    # --- status -----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self._clock.monotonic()
        return {
            "connection_id": self.connection_id,
            "state": self.state,
            "url": self.spec.url,
            "connected_since": self.connected_since,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "last_message_age_s": round(now - self.last_message_at, 3) if self.last_message_at is not None else None,
            "assets": self._assets() if self._assets is not None else 0,
            "frames": self.frames,
            "malformed": self.malformed,
            "unknown": self.unknown,
        }


def _describe_close(exc: ConnectionClosed) -> str:
    if exc.sent is not None and exc.sent.code == 1009:
        return "frame larger than POLYMARKET_MAX_FRAME_BYTES (closed with 1009)"
    rcvd = exc.rcvd
    if rcvd is None:
        return "connection lost without a close frame"
    if rcvd.code == 1008:
        return f"closed by the venue with 1008 (policy violation): {rcvd.reason or 'no reason'}"
    if rcvd.code == 1009:
        return "frame larger than POLYMARKET_MAX_FRAME_BYTES (1009)"
    return f"closed by the venue with code {rcvd.code}: {rcvd.reason or 'no reason'}"
