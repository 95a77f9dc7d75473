"""Session ownership: in shared-feed (Redis) mode paper sessions and agents run in one process only.

:class:`Ownership` is what the application needs of the lock (``redisbus/ownership.py`` implements it).
:func:`run_while_owned` starts the session services while this process holds the lock and stops them when
it is lost or Redis becomes unreachable; meanwhile every paper/agent/system call answers a
:class:`~polymarket_realtime.errors.StateError` naming the owner (or saying Redis is unreachable).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import anyio

if TYPE_CHECKING:
    from .root import Application

__all__ = ["Ownership", "claim_sessions"]

log = logging.getLogger(__name__)

StartSessions = Callable[[contextlib.AsyncExitStack], Awaitable[None]]


class Ownership(Protocol):
    @property
    def held(self) -> bool: ...
    @property
    def renew_interval_s(self) -> float: ...
    @property
    def services_up(self) -> bool: ...
    def want(self) -> None: ...
    async def attempt(self) -> bool: ...
    def reason(self) -> str: ...
    async def wait_changed(self) -> None: ...
    def mark_services(self, up: bool) -> None: ...


async def claim_sessions(
    app: Application, ownership: Ownership, stack: contextlib.AsyncExitStack, start: StartSessions
) -> None:
    """Run ``start`` whenever this process owns the sessions; waits for the services when the lock is free."""
    ownership.want()
    await ownership.attempt()
    if not ownership.held:
        _gate(app, ownership.reason())
    task_group = await stack.enter_async_context(anyio.create_task_group())
    stack.callback(task_group.cancel_scope.cancel)
    started = anyio.Event()
    task_group.start_soon(_run_while_owned, app, ownership, start, started, name="paper-sessions-owner")
    if ownership.held:
        await started.wait()


def _gate(app: Application, reason: str) -> None:
    app.sessions = None  # stopped here: the require_* accessors now raise StateError(reason)
    app.sessions_unavailable = reason


async def _run_while_owned(app: Application, ownership: Ownership, start: StartSessions, started: anyio.Event) -> None:
    while True:
        if not ownership.held:
            _gate(app, ownership.reason())  # refreshed each round: owner id or "Redis unreachable"
            started.set()
            with anyio.move_on_after(ownership.renew_interval_s):
                await ownership.wait_changed()
            continue
        async with contextlib.AsyncExitStack() as services:
            await start(services)
            app.sessions_unavailable = None
            log.info("paper sessions and agents running in this server (it owns them)")
            ownership.mark_services(True)
            started.set()
            while _still_held(ownership):
                await ownership.wait_changed()
            _gate(app, ownership.reason())
            log.warning("paper sessions and agents stopped here: %s", ownership.reason())
        ownership.mark_services(False)  # the services' tasks are cancelled and the database closed


def _still_held(ownership: Ownership) -> bool:
    return ownership.held  # a call, not a narrowed attribute: the lock changes while we wait
