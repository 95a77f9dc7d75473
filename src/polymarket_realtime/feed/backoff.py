"""Reconnect policy, pure: jittered exponential delays and a retryable-error classifier.

``Backoff`` yields "full jitter" delays: attempt ``n`` (from 0) waits ``uniform(0, min(max, base * 2**n))``
seconds. Full jitter spreads many sockets that dropped together (a venue restart) instead of having them
reconnect in lock-step. The randomness source is injected so tests know every delay in advance.

``is_retryable`` decides whether a connection error is worth another attempt. Retries are unlimited:
network failures, closes (any code), handshake rejections (429/5xx) and our own venue errors are
transient; configuration and programming errors are not, and retrying them would only hide a bug.
This module imports no I/O library: it classifies by exception type and defining module.
"""

from __future__ import annotations

import random

from ..errors import ConfigError, VenueError

__all__ = ["Backoff", "is_retryable"]


class Backoff:
    """Full-jitter exponential backoff.

    Args:
        base_s: ceiling of the first delay (the first delay is in ``[0, base_s]``).
        max_s: cap of every ceiling.
        rng: randomness source (inject a seeded ``random.Random`` in tests).
    """

    __slots__ = ("_attempt", "base_s", "max_s", "rng")

    base_s: float
    max_s: float
    rng: random.Random

    def __init__(self, base_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if base_s <= 0 or max_s < base_s:
            raise ValueError("need 0 < base_s <= max_s")
        self.base_s = base_s
        self.max_s = max_s
        self.rng = rng if rng is not None else random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Delays handed out since the last :meth:`reset`."""
        return self._attempt

    def ceiling(self) -> float:
        """Upper bound of the next delay."""
        # min() before the power would overflow for long outages; cap the exponent instead.
        return min(self.max_s, self.base_s * float(1 << min(self._attempt, 62)))

    def next_delay(self) -> float:
        """The next delay in seconds, then advance the attempt counter."""
        delay: float = self.rng.uniform(0.0, self.ceiling())
        self._attempt += 1
        return delay

    def reset(self) -> None:
        """Call after a healthy connection: the next outage starts from ``base_s`` again."""
        self._attempt = 0


# Defined in these packages = an I/O failure of the socket or HTTP client (closed connection,
# handshake refused, protocol error, timeout), never a bug of ours.
_NETWORK_MODULES = ("websockets", "httpx", "httpx2", "httpcore", "h11", "ssl")
# ...except these, which mean the URL or proxy setting is wrong: retrying forever would hide it.
_FATAL_NAMES = frozenset({"InvalidURI", "InvalidProxy", "InvalidURL", "UnsupportedProtocol"})


def is_retryable(exc: BaseException) -> bool:
    """True when ``exc`` is a transient connection failure worth another attempt (after a delay)."""
    if isinstance(exc, ConfigError):
        return False
    if isinstance(exc, (OSError, EOFError, TimeoutError, VenueError)):
        # OSError covers refused/reset/unreachable and asyncio's TimeoutError (an OSError subclass
        # in 3.11); VenueError includes AuthError: a rejected credential is re-fetched and retried.
        return True
    for cls in type(exc).__mro__:
        if cls.__name__ in _FATAL_NAMES:
            return False
        if cls.__module__.split(".", 1)[0] in _NETWORK_MODULES:
            return True
    return False
