"""Keepalive timing on a virtual clock: pings exactly on the interval grid, failures exactly at their limit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest

from polymarket_realtime.feed.keepalive import KeepalivePolicy, KeepaliveSchedule, run_keepalive
from tests.virtual_clock import VirtualClock

pytestmark = pytest.mark.anyio

T0 = 1000.0


class Socket:
    """The loop's view of one socket: what was sent when, what was received when."""

    def __init__(self, clock: VirtualClock, *, answers: bool = True) -> None:
        self.clock = clock
        self.answers = answers
        self.rx = self.event = clock.now
        self.pings: list[tuple[float, str]] = []
        self.failure: tuple[float, str] | None = None

    async def send(self, frame: str) -> bool:
        self.pings.append((self.clock.now, frame))
        if self.answers:
            self.rx = self.clock.now
        return True

    def fail(self, reason: str) -> None:
        self.failure = (self.clock.now, reason)


@contextlib.asynccontextmanager
async def _keepalive(policy: KeepalivePolicy, sock: Socket, clock: VirtualClock) -> AsyncIterator[None]:
    """The keepalive loop for ``sock`` running on ``clock``, started and asleep; cancelled on exit."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: run_keepalive(
                KeepaliveSchedule(policy, T0),
                clock=clock,
                sleep=clock.sleep,
                last_rx=lambda: sock.rx,
                last_event=lambda: sock.event,
                send_ping=sock.send,
                on_failure=sock.fail,
            )
        )
        await clock.wait_sleepers(1)
        yield
        tg.cancel_scope.cancel()


async def _run(policy: KeepalivePolicy, sock: Socket, clock: VirtualClock, steps: list[float]) -> None:
    async with _keepalive(policy, sock, clock):
        for t in steps:
            await clock.advance_to(t)


async def test_pings_go_out_exactly_at_each_interval() -> None:
    clock = VirtualClock(T0)
    sock = Socket(clock)
    policy = KeepalivePolicy(ping_interval_s=5.0, pong_timeout_s=12.0, idle_timeout_s=None)
    async with _keepalive(policy, sock, clock):
        for k in range(1, 5):
            await clock.advance_to(T0 + 5 * k - 0.001)
            assert len(sock.pings) == k - 1  # never early
            assert clock.next_deadline() == T0 + 5 * k  # the loop sleeps until the ping is due, no fixed step
            await clock.advance_to(T0 + 5 * k)
            assert sock.pings[-1] == (T0 + 5 * k, "PING")  # exactly on time
    assert sock.failure is None


async def test_dead_exactly_at_the_pong_timeout() -> None:
    clock = VirtualClock(T0)
    sock = Socket(clock, answers=False)
    policy = KeepalivePolicy(ping_interval_s=5.0, pong_timeout_s=12.0, idle_timeout_s=None)
    await _run(policy, sock, clock, [T0 + 11.999, T0 + 30])
    assert [t for t, _ in sock.pings] == [T0 + 5, T0 + 10]
    assert sock.failure is not None and sock.failure[0] == T0 + 12 and "no PONG or data for 12s" in sock.failure[1]


async def test_silent_socket_exactly_at_the_idle_timeout_while_pongs_arrive() -> None:
    clock = VirtualClock(T0)
    sock = Socket(clock)
    policy = KeepalivePolicy(ping_interval_s=2.0, pong_timeout_s=6.0, idle_timeout_s=7.0)
    await _run(policy, sock, clock, [T0 + 30])
    assert [t for t, _ in sock.pings] == [T0 + 2, T0 + 4, T0 + 6]
    assert sock.failure == (T0 + 7, "no data for 7s while subscribed: silent socket, reconnecting")


async def test_ping_on_open_then_on_the_grid_with_the_channel_frame() -> None:
    clock = VirtualClock(T0)
    sock = Socket(clock)
    policy = KeepalivePolicy(ping_interval_s=5.0, pong_timeout_s=12.0, ping_frame='{"op":"ping"}', ping_on_open=True)
    await _run(policy, sock, clock, [T0 + 10])
    assert sock.pings == [(T0, '{"op":"ping"}'), (T0 + 5, '{"op":"ping"}'), (T0 + 10, '{"op":"ping"}')]


async def test_server_pinged_channel_sends_nothing_and_any_frame_keeps_it_alive() -> None:
    """Channels whose server pings (the reader answers): no client ping, liveness from what arrives."""
    clock = VirtualClock(T0)
    sock = Socket(clock)
    policy = KeepalivePolicy(ping_interval_s=None, pong_timeout_s=12.0)
    async with _keepalive(policy, sock, clock):
        await clock.advance_to(T0 + 3)
        sock.rx = clock.now  # the server's ping arrived
        await clock.advance_to(T0 + 14.999)
        assert sock.failure is None
        await clock.advance_to(T0 + 20)
    assert sock.pings == [] and sock.failure is not None and sock.failure[0] == T0 + 15


def test_late_wake_keeps_the_grid_and_a_long_stall_restarts_it() -> None:
    schedule = KeepaliveSchedule(KeepalivePolicy(ping_interval_s=5.0, pong_timeout_s=12.0), T0)
    schedule.pinged(T0 + 5.3)  # woke 0.3 s late: the next ping stays at 10, not 10.3
    assert schedule.next_ping == T0 + 10
    schedule.pinged(T0 + 17)  # stalled past a whole interval: no burst of catch-up pings
    assert schedule.next_ping == T0 + 22
    assert schedule.deadline(last_rx=T0 + 17, last_event=T0) == T0 + 22
