"""One agent at run time: its stored record, task, sink and counters (:class:`AgentEntry`), and the
:class:`~.base.AgentContext` handed to it (:class:`AgentCtx`) for logging, alerts and paper orders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio

from ..clock import Clock
from ..errors import InvalidInputError, StateError
from ..model.agent_records import AgentRecord
from ..model.book import BookReader
from ..storage.activity import ActivityFeed
from .base import Agent
from .models import AgentView

if TYPE_CHECKING:
    from ..paper.models import OrderResult
    from ..paper.service import PaperService
    from ..routing.sinks import Sink

__all__ = ["AgentCtx", "AgentEntry"]


@dataclass(eq=False)
class AgentEntry:
    rec: AgentRecord
    agent: Agent | None = None
    scope: anyio.CancelScope | None = None
    sink: Sink | None = None
    events: int = 0
    errors: int = 0
    log_lines: int = 0
    last_active_ns: int = 0
    last_persist: float = 0.0
    done: anyio.Event | None = None
    busy: bool = False

    def view(self) -> AgentView:
        entry = self
        rec = entry.rec
        stats: dict[str, Any] = {}
        if entry.agent is not None:
            try:
                stats = entry.agent.stats()
            except Exception as exc:  # a broken stats() must not break get_agent
                stats = {"stats_error": repr(exc)}
        return AgentView(
            agent_id=rec.id,
            kind=rec.kind,
            state=rec.state,
            state_reason=rec.state_reason,
            session_id=rec.session_id,
            config=rec.config,
            created_ms=rec.created_ns // 1_000_000,
            last_active_ms=entry.last_active_ns // 1_000_000 or None,
            counters={
                "events": entry.events,
                "dropped": entry.sink.dropped if entry.sink is not None else 0,
                "errors": entry.errors,
                "log_lines": entry.log_lines,
            },
            stats=stats,
        )


class AgentCtx:
    """The :class:`AgentContext` handed to one agent."""

    def __init__(
        self,
        entry: AgentEntry,
        *,
        books: BookReader,
        clock: Clock,
        activity: ActivityFeed,
        paper: PaperService | None,
        log: Callable[[AgentEntry, str, str], Awaitable[None]],
        alert: Callable[[AgentEntry, str, Decimal, str], Awaitable[None]],
    ) -> None:
        self._entry = entry
        self._activity = activity
        self._paper = paper
        self._log = log
        self._alert = alert
        self.agent_id = entry.rec.id
        self.session_id = entry.rec.session_id
        self.books = books
        self.clock = clock

    async def log(self, level: str, message: str) -> None:
        await self._log(self._entry, level, message)

    async def alert(self, token_id: str, price: Decimal, message: str) -> None:
        await self._alert(self._entry, token_id, price, message)

    async def activity(self, kind: str, message: str, data: dict[str, Any] | None = None) -> None:
        await self._activity.record(kind, self.agent_id, message, data)

    async def place_order(self, token_id: str, side: str, size: Decimal) -> OrderResult:
        paper = self._paper
        if paper is None or self.session_id is None:
            raise StateError("this agent has no paper session", state="no_session")
        if side not in ("BUY", "SELL"):
            raise InvalidInputError(f"bad side {side!r}")
        paper.emit_command(
            self.session_id,
            "order_intent",
            {"agent_id": self.agent_id, "token_id": token_id, "side": side, "size": str(size)},
        )
        # No wait for a warming book: the agent reacts to events, and the next event retries.
        return await paper.place_order(self.session_id, token_id, "BUY" if side == "BUY" else "SELL", size, wait_s=0)

    def position(self, token_id: str) -> Decimal:
        paper = self._paper
        if paper is None or self.session_id is None:
            return Decimal(0)
        return paper.position_size(self.session_id, token_id)
