"""Keepalive and liveness timing of one socket: when to ping, when it is dead, when it is silent.

Every :class:`~.connection.FeedConnection` channel (market, user, RTDS, sports) uses this scheduler, so a
channel added later only states its policy. PolyBolt does not: its socket is the websockets library's,
which answers the venue's protocol pings (every 25 s) and sends its own protocol pings on real time
(``ping_interval=POLYMARKET_PING_INTERVAL_S``, ``ping_timeout=POLYMARKET_PONG_TIMEOUT_S``); the JSON
``{"op": "ping"}`` of the PolyBolt codec is sent only by ``doctor``. See WEBSOCKET_INTEGRATION.md,
"Liveness, reconnect and resync". The policy:

* ``ping_interval_s``: the client sends ``ping_frame`` every so often (``None``: the client never pings,
  e.g. channels where the *server* pings and the reader answers).
* ``ping_on_open``: one extra ping right after the initial frames. On a channel that authenticates,
  its answer proves the credentials were accepted within a round trip instead of a ping interval.
* ``pong_timeout_s``: nothing at all received (answer, server ping or data) for this long: dead.
* ``idle_timeout_s``: no *event* for this long: a silent socket (``None``: no data watchdog).

:class:`KeepaliveSchedule` is sans-I/O: given the current time and when something was last received it
says what is due and when the next deadline is. :func:`run_keepalive` sleeps exactly until the earliest
deadline (next ping, liveness limit, silence limit) through an injected ``sleep`` and reads time from an
injected :class:`~polymarket_realtime.clock.Clock`, so pings go out at ``t = interval, 2*interval, ...``
after the socket opened, not at the next step of a fixed polling loop, and a test clock can check that.
Pings stay on that grid: a late wake-up does not push later pings back (after a stall longer than an
interval the grid restarts from now, with no burst of catch-up pings).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..clock import Clock

__all__ = ["KeepalivePolicy", "KeepaliveSchedule", "Sleep", "run_keepalive"]

Sleep = Callable[[float], Awaitable[None]]
"""``await sleep(seconds)``: ``anyio.sleep`` in production, a virtual clock's sleep in tests."""


@dataclass(frozen=True, slots=True)
class KeepalivePolicy:
    ping_interval_s: float | None
    pong_timeout_s: float
    idle_timeout_s: float | None = None
    ping_frame: str = "PING"
    ping_on_open: bool = False


class KeepaliveSchedule:
    """What is due at a given time, for a socket opened at ``opened_at`` (monotonic seconds)."""

    def __init__(self, policy: KeepalivePolicy, opened_at: float) -> None:
        self.policy = policy
        interval = policy.ping_interval_s
        if policy.ping_on_open:
            self.next_ping = opened_at
        elif interval is not None:
            self.next_ping = opened_at + interval
        else:
            self.next_ping = math.inf

    def failure(self, now: float, last_rx: float, last_event: float) -> str | None:
        """Why the socket must be dropped now, or None."""
        p = self.policy
        if now - last_rx >= p.pong_timeout_s:
            return f"no PONG or data for {p.pong_timeout_s:g}s: socket presumed dead"
        if p.idle_timeout_s is not None and now - last_event >= p.idle_timeout_s:
            return f"no data for {p.idle_timeout_s:g}s while subscribed: silent socket, reconnecting"
        return None

    def ping_due(self, now: float) -> bool:
        return now >= self.next_ping

    def pinged(self, now: float) -> None:
        """A ping due at ``next_ping`` went out at ``now``; schedule the next one on the same grid."""
        interval = self.policy.ping_interval_s
        if interval is None:
            self.next_ping = math.inf
            return
        self.next_ping += interval
        if self.next_ping <= now:
            self.next_ping = now + interval

    def deadline(self, last_rx: float, last_event: float) -> float:
        """The earliest time anything can become due: the next wake-up."""
        p = self.policy
        due = min(self.next_ping, last_rx + p.pong_timeout_s)
        if p.idle_timeout_s is not None:
            due = min(due, last_event + p.idle_timeout_s)
        return due


async def run_keepalive(
    schedule: KeepaliveSchedule,
    *,
    clock: Clock,
    sleep: Sleep,
    last_rx: Callable[[], float],
    last_event: Callable[[], float],
    send_ping: Callable[[str], Awaitable[bool]],
    on_ping: Callable[[float], None] | None = None,
    on_failure: Callable[[str], None],
) -> None:
    """Ping when due and report a dead or silent socket; returns after ``on_failure`` or a failed send.

    ``send_ping(frame)`` returns False when the socket is gone (the reader sees the close).
    """
    frame = schedule.policy.ping_frame
    while True:
        now = clock.monotonic()
        reason = schedule.failure(now, last_rx(), last_event())
        if reason is not None:
            on_failure(reason)
            return
        if schedule.ping_due(now):
            if not await send_ping(frame):
                return
            schedule.pinged(now)
            if on_ping is not None:
                on_ping(now)
        await sleep(max(0.0, schedule.deadline(last_rx(), last_event()) - clock.monotonic()))
