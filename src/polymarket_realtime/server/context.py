"""The application context every tool reaches through ``app_context(ctx)``.

Built once per server lifespan (once per stdio process) by :mod:`polymarket_realtime.server.app`.
Extensions add their own services with :meth:`AppContext.add_service` and look them up by type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..config import Settings
from ..errors import StateError

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from ..feed.books import BookStore
    from ..feed.contract import FeedBackend
    from ..routing.router import EventRouter
    from ..venues.polymarket.gamma import GammaClient
    from ..venues.polymarket.rest import ClobRestClient
    from .notify import Notifier

__all__ = ["AppContext", "app_context"]

T = TypeVar("T")


@dataclass(eq=False)
class AppContext:
    settings: Settings
    feed: FeedBackend
    """The WebSocketManager (or the Redis consumer that stands in for it)."""
    books: BookStore
    router: EventRouter
    clob: ClobRestClient
    gamma: GammaClient
    notifier: Notifier
    """Pushes MCP notifications to clients of both protocol eras."""
    task_group: anyio.abc.TaskGroup
    """Long-lived background tasks go here; cancelled when the server shuts down."""
    started_monotonic: float
    clock: Clock = SYSTEM_CLOCK
    """Every timestamp and interval of the MCP layer and its services reads this clock."""
    _services: dict[type[Any], object] = field(default_factory=dict, repr=False)
    _unavailable: dict[type[Any], str] = field(default_factory=dict, repr=False)

    def mark_unavailable(self, cls: type[Any], reason: str) -> None:
        """Make :meth:`service` for ``cls`` raise ``StateError(reason)``: a feature deliberately not run here."""
        self._unavailable[cls] = reason

    def remove_service(self, cls: type[Any]) -> None:
        """Forget the service of type ``cls`` (it was stopped); :meth:`service` then raises StateError."""
        self._services.pop(cls, None)

    def add_service(self, service: object) -> None:
        """Register ``service`` under its own type (one per type)."""
        self._services[type(service)] = service

    def service(self, cls: type[T]) -> T:
        """The registered service of type ``cls`` (or a subclass); :class:`StateError` if absent."""
        found = self._services.get(cls)
        if found is None:
            for candidate in self._services.values():
                if isinstance(candidate, cls):
                    found = candidate
                    break
        if (found is None or not isinstance(found, cls)) and cls in self._unavailable:
            raise StateError(self._unavailable[cls], state="unavailable")
        if found is None or not isinstance(found, cls):
            raise StateError(
                f"{cls.__name__} is not running in this server; check POLYMARKET_MCP_TOOLSETS and the server log",
                state="service_missing",
            )
        return found


def app_context(ctx: Context[Any, Any]) -> AppContext:
    """The :class:`AppContext` of the request ``ctx`` (the server lifespan's result)."""
    app = ctx.request_context.lifespan_context
    if not isinstance(app, AppContext):
        raise StateError("the server is not fully started yet; retry in a moment", state="starting")
    return app
