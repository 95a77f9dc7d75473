"""One exception tree for the whole project.

::

    PolymarketRealtimeError            every error we raise on purpose; message is safe to show a model
    ├── ConfigError                    a bad environment variable or setting (names the variable)
    ├── InvalidInputError              a tool argument is wrong (says what is wrong and what to send)
    │   └── NotFoundError              an unknown id (subscription, session, agent, token, market)
    ├── StateError                     the operation is not allowed in the current state (names it)
    ├── VenueError                     Polymarket (or the simulator) answered badly or not at all
    │   ├── VenueUnavailableError      could not reach the endpoint
    │   └── AuthError                  credentials missing, rejected (401) or mismatched
    ├── StaleDataError                 the book needed is stale or unknown: fail closed
    ├── RiskLimitError                 a paper order breaks a session risk limit (names the limit)
    ├── StorageError                   SQLite failed; the state change did not happen
    └── RecordingError                 a recording file is corrupt or truncated (names the offset)

Foreign exceptions (websockets, httpx2, sqlite3, redis) are translated at the boundary with
``raise ... from exc``. Messages never contain secrets: see :mod:`polymarket_realtime.secrets`.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "InvalidInputError",
    "NotFoundError",
    "PolymarketRealtimeError",
    "RecordingError",
    "RiskLimitError",
    "StaleDataError",
    "StateError",
    "StorageError",
    "VenueError",
    "VenueUnavailableError",
]


class PolymarketRealtimeError(Exception):
    """Base of every error this package raises deliberately."""


class ConfigError(PolymarketRealtimeError):
    """A setting is invalid. The message names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class InvalidInputError(PolymarketRealtimeError, ValueError):
    """A caller-supplied value is wrong; the message says what to send instead."""


class NotFoundError(InvalidInputError, LookupError):
    """An id does not exist. ``known`` lists valid ids when that helps the caller."""

    def __init__(self, message: str, *, known: list[str] | None = None) -> None:
        if known is not None:
            shown = ", ".join(known[:20]) if known else "none"
            more = f" (+{len(known) - 20} more)" if len(known) > 20 else ""
            message = f"{message} Known: {shown}{more}."
        super().__init__(message)
        self.known = known or []


class StateError(PolymarketRealtimeError):
    """The operation is not allowed in the current state."""

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message)
        self.state = state


class VenueError(PolymarketRealtimeError):
    """The venue (or simulator) returned an error or an unexpected answer."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class VenueUnavailableError(VenueError):
    """The endpoint could not be reached (DNS, refused, timeout)."""


class AuthError(VenueError):
    """Credentials are missing, malformed, rejected, or belong to another address."""


class StaleDataError(PolymarketRealtimeError):
    """Data needed for a decision is stale or missing; we refuse rather than guess."""


class RiskLimitError(PolymarketRealtimeError):
    """A paper order would break a session risk limit."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class StorageError(PolymarketRealtimeError):
    """The database failed; the change it guarded was not applied."""


class RecordingError(PolymarketRealtimeError):
    """A recording file is unreadable from ``offset`` on."""

    def __init__(self, message: str, *, path: str, offset: int) -> None:
        super().__init__(f"{message} (file {path}, byte offset {offset})")
        self.path = path
        self.offset = offset
