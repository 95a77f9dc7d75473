"""One PolyBolt (reference prices) socket: auth, subscriptions, loss checks, reconnects per close code.

Over 400 lines: one socket's lifecycle (auth, subscribe pacing, sequence checks, close-code policy) reads best whole.

:class:`~.polybolt_feed.PolyBoltFeed` spreads the wanted subscriptions over these sockets (64 each).
One connection, per attempt:

1. connect (an upgrade refused with 429/503 waits ``Retry-After`` plus jitter);
2. send ``auth`` with the L2 trio from the credentials provider and wait for ``authed`` (never more than 8
   auth frames on one socket); ``auth_invalid`` is retried once with refreshed credentials, then reported
   as refused and the connection stops; ``auth_unavailable`` is retried on the same socket after a backoff;
3. subscribe the current wanted set, at most one filter per channel per frame (so each ack maps to one
   subscription and its served ``provider``), at most 20 frames per second;
4. read: snapshots seed, live points follow (a live point not newer than the snapshot is a duplicate);
   ``seq`` is tracked per channel and a gap or ``dropped > 0`` becomes ``FeedStatus(state="lossy")`` and a
   counter, never hidden.

After a close the next step comes from :func:`.polybolt_policy.plan_reconnect` (per close code). The
delay sleep is injectable so tests check the timing without waiting.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskGroup
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ..clock import Clock
from ..config import Settings
from ..errors import AuthError
from ..model.events import Event, ReferencePrice
from ..venues.polymarket import polybolt as pb
from ..venues.polymarket.ratelimit import parse_retry_after
from .backoff import Backoff, is_retryable
from .polybolt_policy import Plan, SeqTracker, plan_reconnect

__all__ = ["MISSING_CREDENTIALS", "REFUSED_ADVICE", "PolyBoltConnection", "Provider", "Sleep"]

logger = logging.getLogger(__name__)
# websockets logs every frame at DEBUG, and our first frame carries the credential trio.
_QUIET_WS_LOGGER = logging.getLogger(__name__ + ".authenticated_frames")
_QUIET_WS_LOGGER.setLevel(logging.INFO)

MISSING_CREDENTIALS = (
    "Reference prices come from PolyBolt, which requires Polymarket CLOB API credentials: set POLYGON_PRIVATE_KEY "
    "(credentials are derived from it) or all of POLYMARKET_API_KEY, POLYMARKET_API_SECRET and "
    "POLYMARKET_PASSPHRASE, then restart the server."
)
REFUSED_ADVICE = (
    "check POLYMARKET_API_KEY/POLYMARKET_API_SECRET/POLYMARKET_PASSPHRASE, or unset them and set POLYGON_PRIVATE_KEY "
    "so the server derives fresh ones (website Builder keys are not CLOB API credentials); run "
    "`polymarket-realtime-mcp doctor` (or the diagnose_connection tool) for details"
)
UNAVAILABLE_ADVICE = "PolyBolt cannot verify credentials right now (venue-side problem); retrying automatically"

AuthState = Literal["none", "pending", "authed", "missing", "refused", "unavailable"]
StatusFn = Callable[["PolyBoltConnection", str, str], None]
Sleep = Callable[[float], Awaitable[None]]
Provider = Callable[[bool], Awaitable[Any]]
_PENDING_KEEP = 256
_RATE_WINDOW_S = 1.0
_BACKOFF_CAP_S = 30.0
_RATE_FRAMES = pb.MAX_SUBSCRIBE_FRAMES_PER_S - 2  # a little under the venue's 20/s: clocks differ


def _retry_after(exc: InvalidStatus, now_s: float) -> float | None:
    response = exc.response
    if response.status_code not in (429, 503):
        return None
    wait = parse_retry_after(response.headers.get("Retry-After"), now_s=now_s)
    return 1.0 if wait is None else wait  # absent or garbage: still wait, a little


class PolyBoltConnection:
    """One PolyBolt socket; its wanted subscriptions come from ``keys()`` (its shard)."""

    def __init__(
        self,
        connection_id: str,
        settings: Settings,
        *,
        keys: Callable[[], tuple[str, ...]],
        provider: Callable[[], Provider | None],
        on_events: Callable[[list[Event]], None],
        on_status: StatusFn,
        taps: list[Any],
        rng: random.Random,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.connection_id = connection_id
        self.url = settings.polybolt_ws_url
        self.settings = settings
        self._keys = keys
        self._provider = provider
        self._on_events = on_events
        self._on_status = on_status
        self._taps = taps
        self._rng = rng
        self._clock = clock
        self._sleep = sleep
        # PolyBolt's documented reconnect policy caps the backoff at 30 s, whatever the other sockets use.
        cap = max(settings.reconnect_base_s, min(settings.reconnect_max_s, _BACKOFF_CAP_S))
        self.backoff = Backoff(settings.reconnect_base_s, cap, rng)
        self._rids = (f"{connection_id}-{n}" for n in itertools.count(1))
        self._stopped = False
        self._wake = anyio.Event()
        self._ws: ClientConnection | None = None
        self._sync_lock = anyio.Lock()
        self._sent: set[str] = set()
        self._pending: dict[str, list[str]] = {}  # rid -> keys of a subscribe frame awaiting acks
        self._send_times: deque[float] = deque()
        self._seq = SeqTracker()
        self._snapshot_ts: dict[tuple[str, str], int] = {}
        self._refresh_next = False
        self._refreshed = False
        self._close_after_auth: str | None = None
        self._ever_connected = False
        # Status.
        self.state: Literal["idle", "connecting", "connected", "backoff", "failed", "stopped"] = "idle"
        self.auth: AuthState = "none"
        self.auth_frames = 0
        self.attempts = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self.last_close_code: int | None = None
        self.last_delay_s: float | None = None
        self.connected_since: float | None = None
        self.last_message_at: float | None = None
        self.frames = 0
        self.malformed = 0
        self.unknown = 0
        self.gaps = 0
        self.dropped_frames = 0
        self.lossy_events = 0
        self.served: dict[str, str] = {}
        """Provider the venue says it serves, per subscription key (from ``subscribed`` acks)."""
        self.rejected: dict[str, str] = {}
        """Subscriptions the venue refused (key -> error code)."""

    # --- control ----------------------------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _closed_by_us(self) -> str | None:
        return self._close_after_auth

    def _is_stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._ws is not None:
            self._ws.transport.abort()

    def force_reconnect(self, reason: str = "reconnect requested") -> None:
        """Reconnect now; also restarts a connection stopped by a policy close or refused credentials."""
        self.last_error = reason
        self._refreshed = False
        self._wake.set()
        if self._ws is not None:
            self._ws.transport.abort()

    async def sync(self) -> None:
        """Send subscribe/unsubscribe frames for the difference between wanted and sent (when authed)."""
        ws = self._ws
        if ws is None or self.auth != "authed":
            return  # the next authentication subscribes the whole wanted set
        async with self._sync_lock:
            wanted = set(self._keys())
            remove = sorted(self._sent - wanted)
            add = [k for k in self._keys() if k not in self._sent]
            try:
                for batch in pb.batch_subscriptions(remove):
                    await self._send_op(ws, pb.unsubscribe_frame(next(self._rids), batch))
                    self._sent.difference_update(batch)
                    for key in batch:
                        self.served.pop(key, None)
                        self._snapshot_ts.pop(_series(key), None)
                for batch in pb.batch_subscriptions(add):
                    rid = next(self._rids)
                    self._pending[rid] = batch
                    while len(self._pending) > _PENDING_KEEP:  # acks of old frames are long in
                        del self._pending[next(iter(self._pending))]
                    await self._send_op(ws, pb.subscribe_frame(rid, batch))
                    self._sent.update(batch)
            except ConnectionClosed:
                return

    async def _send_op(self, ws: ClientConnection, frame: str) -> None:
        times = self._send_times
        while True:
            now = self._clock.monotonic()
            while times and now - times[0] >= _RATE_WINDOW_S:
                times.popleft()
            if len(times) < _RATE_FRAMES:
                break
            await self._sleep(_RATE_WINDOW_S - (now - times[0]) + 0.001)
        times.append(self._clock.monotonic())
        await ws.send(frame)

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        while not self._is_stopped():
            try:
                plan = await self._attempt()
            except Exception as exc:
                # A bug of ours must not take the other sockets down: stop this one, say so.
                logger.exception("%s: connection failed", self.connection_id)
                plan = Plan("stop_bug", reason=f"PolyBolt connection stopped by an internal error: {exc!r}")
            if self._is_stopped():  # stop() may run while we await
                break
            if plan.action in ("stop_bug", "stop_auth"):
                self.state = "failed"
                self.last_error = plan.reason
                if plan.action == "stop_bug":
                    logger.error("%s: %s", self.connection_id, plan.reason)
                    self._on_status(self, "failed", plan.reason)
                elif self.auth not in ("refused", "missing"):  # not reported yet (a 4001 close)
                    self._auth_failed("refused", f"{plan.reason}: {REFUSED_ADVICE}")
                self._wake = anyio.Event()
                await self._wake.wait()  # force_reconnect (or stop) wakes us
                continue
            if plan.action == "refresh_and_reconnect":
                self._refresh_next = True
                self._refreshed = True
            self.state = "backoff"
            self.last_delay_s = plan.delay_s
            logger.info("%s: %s; reconnecting in %.2fs", self.connection_id, plan.reason, plan.delay_s)
            await self._sleep(plan.delay_s)
        self.state = "stopped"

    def _plan(self, close_code: int | None, retry_after: float | None = None) -> Plan:
        return plan_reconnect(
            close_code,
            backoff=self.backoff,
            rng=self._rng,
            refreshed_in_streak=self._refreshed,
            can_refresh=self._provider() is not None,
            retry_after_s=retry_after,
        )

    async def _attempt(self) -> Plan:
        self.state = "connecting"
        self.attempts += 1
        host = urlsplit(self.url).hostname or ""
        try:
            ws = await connect(
                self.url,
                compression=None,
                max_size=self.settings.max_frame_bytes,
                ping_interval=self.settings.ping_interval_s,
                ping_timeout=self.settings.pong_timeout_s,
                open_timeout=self.settings.http_timeout_s,
                close_timeout=1.0,
                proxy=None if host in ("127.0.0.1", "localhost", "::1") else True,
                logger=_QUIET_WS_LOGGER,
            )
        except InvalidStatus as exc:
            retry_after = _retry_after(exc, self._clock.time_ns() / 1e9)
            self.last_error = f"upgrade refused with HTTP {exc.response.status_code}"
            self.last_close_code = None
            return self._plan(None, retry_after)
        except Exception as exc:
            if not is_retryable(exc):
                raise
            self.last_error = f"{type(exc).__name__}: {exc}"
            return self._plan(None)
        if self._ever_connected:
            self.reconnects += 1
        self._ever_connected = True
        self._ws = ws
        self._sent.clear()
        self._pending.clear()
        self._seq.reset()
        self._snapshot_ts.clear()
        self.auth_frames = 0
        self.auth = "none"
        self._close_after_auth = None
        self.state = "connected"
        self.connected_since = self._clock.time_ns() / 1e9
        self._on_status(self, "connected", f"connected to {self.url}")
        code: int | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._authenticate, ws, tg, self._refresh_next)
                self._refresh_next = False
                try:
                    await self._read(ws, tg)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else None
                tg.cancel_scope.cancel()
            if code is None and ws.protocol.close_rcvd is not None:
                code = ws.protocol.close_rcvd.code
        finally:
            self._ws = None
            self.connected_since = None
            with anyio.CancelScope(shield=True):
                await ws.close()
        self.last_close_code = code
        if self._is_stopped():
            return Plan("reconnect")
        closed_by_us = self._closed_by_us()
        if closed_by_us is not None:  # credentials missing or refused twice: we closed it ourselves
            return Plan("stop_auth", reason=closed_by_us)
        plan = self._plan(code)
        self.last_error = plan.reason
        self._on_status(self, "disconnected", plan.reason)
        return plan

    # --- auth ---------------------------------------------------------------------------------------

    async def _authenticate(self, ws: ClientConnection, tg: TaskGroup, refresh: bool, delay_s: float = 0.0) -> None:
        try:
            await self._authenticate_once(ws, refresh, delay_s)
        except ConnectionClosed:
            return  # the reader sees the close and decides what next

    async def _authenticate_once(self, ws: ClientConnection, refresh: bool, delay_s: float) -> None:
        if delay_s > 0:
            await self._sleep(delay_s)
        provider = self._provider()
        if provider is None:
            self._auth_failed("missing", MISSING_CREDENTIALS)
            self._close_after_auth = MISSING_CREDENTIALS
            await ws.close(1000, "no credentials")
            return
        if self.auth_frames >= pb.MAX_AUTH_FRAMES:
            # A ninth auth frame would be a policy violation (4008): start over on a new socket.
            self.last_error = "PolyBolt auth attempts exhausted on this socket; reconnecting"
            await ws.close(1000, "auth attempts exhausted")
            return
        try:
            creds = await provider(refresh)
        except AuthError as exc:
            # An HTTP status means the venue refused them (e.g. an env trio that cannot be re-derived).
            state: AuthState = "refused" if getattr(exc, "status", None) else "missing"
            self._auth_failed(state, f"could not get API credentials: {exc}")
            self._close_after_auth = str(exc)
            await ws.close(1000, "no credentials")
            return
        except Exception as exc:
            # e.g. the CLOB host is unreachable while deriving: transient, start over with backoff.
            if not is_retryable(exc):
                raise
            self.last_error = f"could not get API credentials: {exc}"
            logger.warning("%s: %s", self.connection_id, self.last_error)
            await ws.close(1000, "credentials unavailable")
            return
        self.auth_frames += 1
        self.auth = "pending"
        frame = pb.auth_frame(
            next(self._rids), creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal()
        )
        await ws.send(frame)

    def _auth_failed(self, state: AuthState, detail: str) -> None:
        self.auth = state
        self.last_error = detail
        logger.warning("%s: %s", self.connection_id, detail)
        self._on_status(self, "auth_failed", detail)

    # --- reading -----------------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection, tg: TaskGroup) -> None:
        clock = self._clock
        async for message in ws:
            ts = clock.time_ns()
            self.last_message_at = clock.monotonic()
            self.frames += 1
            for tap in self._taps:
                try:
                    tap("polybolt", ts, message)
                except Exception:
                    logger.exception("raw tap failed")
            msg = pb.decode(message, ts)
            if msg.kind == "data":
                try:
                    self._on_data(msg)
                except Exception:
                    # A pipeline bug must not tear the socket down (it would reconnect-loop forever).
                    logger.exception("%s: frame pipeline failed", self.connection_id)
            elif msg.kind == "ack":
                self._on_ack(ws, tg, msg)
            elif msg.kind == "error":
                await self._on_error(ws, tg, msg)
            elif msg.kind == "malformed":
                self.malformed += 1
            else:
                self.unknown += 1

    def _on_ack(self, ws: ClientConnection, tg: TaskGroup, msg: pb.Message) -> None:
        if msg.op == "authed":
            self.auth = "authed"
            self._refreshed = False
            tg.start_soon(self.sync)
        elif msg.op == "subscribed" and msg.channel is not None:
            batch = self._pending.get(msg.rid, [])
            same = [k for k in batch if k.startswith(msg.channel + ":")]
            if len(same) == 1 and msg.provider:  # alone on its channel in the frame: the ack is its own
                self.served[same[0]] = msg.provider

    async def _on_error(self, ws: ClientConnection, tg: TaskGroup, msg: pb.Message) -> None:
        code = msg.code
        if code == "auth_invalid":
            if not self._refreshed and self._provider() is not None:
                self._refreshed = True
                logger.warning("%s: PolyBolt refused the credentials; refreshing them once", self.connection_id)
                tg.start_soon(self._authenticate, ws, tg, True)
                return
            detail = f"PolyBolt refused the API credentials (auth_invalid): {REFUSED_ADVICE}"
            self._auth_failed("refused", detail)
            self._close_after_auth = detail
            await ws.close(1000, "credentials refused")
        elif code == "auth_unavailable":
            self.auth = "unavailable"
            delay = self.backoff.next_delay()
            detail = f"{UNAVAILABLE_ADVICE} (auth_unavailable; next auth in {delay:.2f}s)"
            self.last_error = detail
            self._on_status(self, "auth_failed", detail)
            tg.start_soon(self._authenticate, ws, tg, False, delay)
        elif code == "auth_required":
            # We subscribe only after `authed`; the venue forgot it (or a verifier reset): authenticate again.
            logger.warning("%s: PolyBolt says auth_required; authenticating again", self.connection_id)
            # The refused subscription was not taken: forget it was sent so the sync after `authed` resends it.
            refused = [k for k in self._pending.get(msg.rid, []) if msg.channel and k.startswith(msg.channel + ":")]
            self._sent.difference_update(refused)
            tg.start_soon(self._authenticate, ws, tg, False)
        elif code in ("sub_limit", "rate_limited", "auth_attempts", "bad_op"):
            logger.error("%s: PolyBolt error %r: a limit was breached (bug of ours)", self.connection_id, code)
            self.last_error = f"PolyBolt error {code}"
        else:
            batch = self._pending.get(msg.rid, [])
            same = [k for k in batch if msg.channel and k.startswith(msg.channel + ":")]
            key = same[0] if len(same) == 1 else None
            if key is not None:
                self.rejected[key] = code
            logger.warning("%s: PolyBolt refused a subscription (%s) %s", self.connection_id, code, key or "")
            self.last_error = f"PolyBolt error {code}" + (f" for {key}" if key else "")

    def _on_data(self, msg: pb.Message) -> None:
        assert msg.channel is not None and msg.seq is not None
        if self.auth == "authed":
            self.backoff.reset()  # data after auth: this connection is healthy
        self.malformed += msg.bad_points
        loss = self._seq.observe(msg.channel, msg.seq, msg.dropped)
        if loss is not None:
            self.gaps += loss.gap > 0
            self.dropped_frames += max(loss.gap, 0) + loss.dropped
            self.lossy_events += 1
            logger.warning("%s: %s", self.connection_id, loss.detail)
            self._on_status(self, "lossy", loss.detail)
        events: list[Event] = []
        snap = self._snapshot_ts
        for event in msg.events:
            assert isinstance(event, ReferencePrice)
            series = (event.channel, event.symbol)
            if event.snapshot:
                snap[series] = max(snap.get(series, 0), event.ts_event_ms)
            elif event.ts_event_ms and event.ts_event_ms <= snap.get(series, 0):
                continue  # already delivered in the snapshot
            events.append(event)
        if events:
            self._on_events(events)

    # --- status -----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self._clock.monotonic()
        return {
            "connection_id": self.connection_id,
            "state": self.state,
            "url": self.url,
            "connected_since": self.connected_since,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "last_message_age_s": round(now - self.last_message_at, 3) if self.last_message_at is not None else None,
            "assets": len(self._keys()),
            "frames": self.frames,
            "malformed": self.malformed,
            "unknown": self.unknown,
            "auth": self.auth,
            "last_close_code": self.last_close_code,
            "seq_gaps": self.gaps,
            "frames_lost": self.dropped_frames,
            "providers": dict(self.served),
            "rejected": dict(self.rejected),
        }


def _series(key: str) -> tuple[str, str]:
    parts = key.split(":")
    return parts[0], parts[1]
