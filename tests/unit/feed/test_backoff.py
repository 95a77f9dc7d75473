from __future__ import annotations

import random

import pytest
import websockets.exceptions

from polymarket_realtime.errors import AuthError, ConfigError, VenueUnavailableError
from polymarket_realtime.feed.backoff import Backoff, is_retryable


def test_full_jitter_delays_are_seeded_and_bounded() -> None:
    backoff = Backoff(0.5, 4.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    reference = random.Random(7)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert delays == [reference.uniform(0.0, c) for c in ceilings]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert backoff.attempt == 8


def test_reset_returns_to_base() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(1))
    for _ in range(10):
        backoff.next_delay()
    assert backoff.ceiling() == 60.0
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.ceiling() == 1.0
    assert backoff.next_delay() <= 1.0


def test_long_outage_does_not_overflow() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(0))
    for _ in range(5000):
        assert backoff.next_delay() <= 30.0


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(),
        ConnectionRefusedError(),
        TimeoutError(),
        EOFError(),
        OSError("network unreachable"),
        websockets.exceptions.ConnectionClosedError(None, None),
        websockets.exceptions.InvalidStatus.__new__(websockets.exceptions.InvalidStatus),
        websockets.exceptions.InvalidMessage("bad handshake"),
        VenueUnavailableError("down"),
        AuthError("rejected"),
    ],
)
def test_network_failures_are_retryable(exc: BaseException) -> None:
    assert is_retryable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        TypeError("bug"),
        AttributeError("bug"),
        KeyError("bug"),
        ValueError("bug"),
        ConfigError("POLYMARKET_CLOB_WS_URL", "bad"),
        websockets.exceptions.InvalidURI("nope://", "bad scheme"),
    ],
)
def test_programming_and_config_errors_are_fatal(exc: BaseException) -> None:
    assert not is_retryable(exc)
