"""The feed contract: what every caller may use of a feed backend, so a Redis consumer can stand in for the manager.

:class:`~.manager.WebSocketManager` implements it directly (embedded mode). The shared-feed consumer
(:class:`~polymarket_realtime.redisbus.consumer.RedisFeedBackend`) implements the same methods by asking
the process that owns the sockets, and feeds the local :class:`BookStore`/:class:`EventRouter` from the
stream instead of from sockets. Every method is implemented by both: callers never probe with ``getattr``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from ..secrets import Secret
from .stats import FeedStatistics
from .status import FeedStatusReport

if TYPE_CHECKING:
    from .connection import RawTap
    from .user_gap import UserRestSource

__all__ = ["CredentialsProvider", "FeedBackend", "FeedChannel", "UserChannelState", "UserCredentials"]

FeedChannel = Literal["market", "user", "rtds", "polybolt", "sports"]
UserChannelState = tuple[str, str]
"""``(status, detail)``: status is ``active``, ``rejected``, ``retrying`` or ``connecting``."""


class UserCredentials(Protocol):
    """The L2 trio (``auth.l2.ApiCredentials`` fits)."""

    @property
    def api_key(self) -> Secret: ...
    @property
    def secret(self) -> Secret: ...
    @property
    def passphrase(self) -> Secret: ...


CredentialsProvider = Callable[[bool], Awaitable[UserCredentials]]
"""``await provider(refresh)`` -> credentials; ``refresh=True`` after the venue rejected the last ones."""


@runtime_checkable
class FeedBackend(Protocol):
    stats: FeedStatistics
    receives_raw_frames: bool
    """False when venue frames never reach this process (Redis mode): recording must run by the feed."""

    # --- lifecycle: entered once by the composition root, which closes it on exit ---
    async def __aenter__(self) -> FeedBackend: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> bool | None: ...

    @property
    def link_up(self) -> bool:
        """False while the backend cannot reach its source (Redis down); always True for local sockets."""
        ...

    # --- subscriptions (all ref-counted) ---
    async def subscribe_assets(self, asset_ids: Iterable[str]) -> list[str]: ...
    async def unsubscribe_assets(self, asset_ids: Iterable[str]) -> list[str]: ...
    async def subscribe_market_events(self) -> None: ...
    async def unsubscribe_market_events(self) -> None: ...
    async def subscribe_rtds(self, topic: str, type: str = "*") -> None: ...
    async def unsubscribe_rtds(self, topic: str, type: str = "*") -> None: ...
    async def subscribe_reference_prices(self, keys: Iterable[str]) -> list[str]: ...
    async def unsubscribe_reference_prices(self, keys: Iterable[str]) -> list[str]: ...
    async def subscribe_sports(self) -> None: ...
    async def unsubscribe_sports(self) -> None: ...
    async def subscribe_user_markets(self, condition_ids: Iterable[str]) -> None: ...
    async def unsubscribe_user_markets(self, condition_ids: Iterable[str]) -> None: ...

    # --- account access ---
    def set_polybolt_credentials_provider(self, provider: CredentialsProvider | None) -> None: ...
    def set_user_credentials_provider(self, provider: CredentialsProvider | None) -> None: ...
    def set_user_rest(self, source: UserRestSource | None) -> None:
        """Account reads that recover what the user socket missed while down (None: no recovery)."""
        ...

    def user_auth_problem(self) -> str | None:
        """Why the user socket cannot authenticate (with advice), or None when no problem is known."""
        ...

    async def wait_user_first_attempt(self, timeout_s: float) -> None:
        """Wait (bounded) until the user socket's first attempt has an outcome."""
        ...

    def user_channel_state(self) -> UserChannelState: ...

    # --- observation and control ---
    def asset_feed_state(self, asset_id: str) -> str:
        """One sentence on what the feed is doing for ``asset_id`` (why its book may not be live yet)."""
        ...

    def add_raw_tap(self, callback: RawTap) -> Callable[[], None]: ...
    def status(self) -> FeedStatusReport: ...
    async def refresh_status(self, timeout_s: float = 0.5) -> bool:
        """Re-measure what ``status()`` reports, bounded; False when cached values are kept."""
        ...

    async def force_reconnect(self, channel: FeedChannel = "market") -> int: ...
