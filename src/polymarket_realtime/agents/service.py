# Over 400 lines: one service owning agent lifecycle, logs, alerts and presets; split by noun in phase C.
"""AgentService: runs agents, each in its own task on its own router sink, persisted in SQLite.

Over 400 lines: agent lifecycle (start, stop, restart, memory, logs, alerts) around one task per agent and
one commit path; the agent kinds, alert rules, records and the system switch are their own modules.

* ``start_agent`` validates the config, commits the agent as ``running``, subscribes its tokens and
  starts its task before it returns; ``stop_agent`` cancels the task, releases the tokens and commits
  ``stopped``. ``start_agent`` then waits (bounded by ``book_warmup_s``) for its tokens' live books and
  reports which are ready (``warmup``), like ``create_paper_session``. On server start, every agent
  stored as ``running`` is restored with its memory.
* A failure inside an agent is caught at its task boundary: the agent goes to ``error`` with the
  traceback in its log and an ``agent_error`` activity entry; the server and other agents carry on.
* Log lines, alerts and state changes are committed before the call that made them returns.
* :attr:`AgentService.changed` is notified after every agent state change, alert and handled event,
  so callers wait for a state (an agent's counters, :attr:`AgentService.idle`) without polling.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, NotFoundError, StateError
from ..model.agent_records import AgentRecord, AlertRecord
from ..model.book import BookReader
from ..paper.warmup import warm_up
from ..storage import agents as agents_db, presets as presets_db
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from .base import Agent
from .models import AgentList, AgentLogLine, AgentLogs, AgentView, PresetList
from .price_alert import PriceAlertAgent
from .scanner import BUILTIN_PRESETS, METRICS, MarketScannerAgent, validate_weights
from .strategy import StrategyAgent

if TYPE_CHECKING:
    from ..paper.models import OrderResult
    from ..paper.service import MarketLookup, PaperService
    from ..routing.sinks import Sink

__all__ = ["LOG_LEVELS", "MAX_LOG_LINES", "AgentService"]

log = logging.getLogger(__name__)
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_LOG_LINES = 1000
MAX_AGENTS = 100
_PERSIST_EVERY_S = 1.0


@dataclass(eq=False)
class _Entry:
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


class _Ctx:
    """The :class:`AgentContext` handed to one agent."""

    def __init__(self, service: AgentService, entry: _Entry) -> None:
        self._service = service
        self._entry = entry
        self.agent_id = entry.rec.id
        self.session_id = entry.rec.session_id
        self.books: BookReader = service.books
        self.clock: Clock = service.clock

    async def log(self, level: str, message: str) -> None:
        await self._service.append_log(self._entry, level, message)

    async def alert(self, token_id: str, price: Decimal, message: str) -> None:
        await self._service.record_alert(self._entry, token_id, price, message)

    async def activity(self, kind: str, message: str, data: dict[str, Any] | None = None) -> None:
        await self._service.activity.record(kind, self.agent_id, message, data)

    async def place_order(self, token_id: str, side: str, size: Decimal) -> OrderResult:
        paper = self._service.paper
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
        paper = self._service.paper
        if paper is None or self.session_id is None:
            return Decimal(0)
        return paper.position_size(self.session_id, token_id)


class AgentService:
    def __init__(
        self,
        db: Database,
        activity: ActivityFeed,
        books: BookReader,
        *,
        router: Any | None = None,
        feed: Any | None = None,
        paper: PaperService | None = None,
        markets: MarketLookup | None = None,
        clock: Clock = SYSTEM_CLOCK,
        book_warmup_s: float = 0.0,
    ) -> None:
        self.db = db
        self.activity = activity
        self.books = books
        self.router = router
        self.feed = feed
        self.paper = paper
        self.markets = markets
        self.clock = clock
        self.book_warmup_s = book_warmup_s
        self.system_gate: Callable[[], None] | None = None
        """The master switch (set by SystemService): raises StateError while the system is stopped."""
        self._alert_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._log_listeners: list[Callable[[str, int, str, str], None]] = []
        self.kinds: dict[str, type[Agent]] = {
            cls.kind: cls for cls in (PriceAlertAgent, MarketScannerAgent, StrategyAgent)
        }
        self._entries: dict[str, _Entry] = {}
        self._presets: dict[str, dict[str, float]] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self.changed = ChangeSignal()
        """Notified after every agent state change, alert and handled event."""

    def register_kind(self, cls: type[Agent]) -> None:
        """Add an agent kind (extensions and tests)."""
        self.kinds[cls.kind] = cls

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Load agents and presets; restart every agent that was running."""
        self._tg = task_group
        self._presets = await self.db.read(presets_db.load_presets)
        for rec in await self.db.read(agents_db.load_agents):
            entry = _Entry(rec)
            self._entries[rec.id] = entry
            if rec.state == "running":
                await self._launch(entry)

    async def _launch(self, entry: _Entry) -> None:
        cls = self.kinds.get(entry.rec.kind)
        if cls is None or self._tg is None:
            await self._set_state(entry, "error", f"unknown agent kind {entry.rec.kind!r}", kind="agent_error")
            return
        agent = cls(entry.rec.config, _Ctx(self, entry), dict(entry.rec.memory))
        entry.agent = agent
        entry.done = anyio.Event()
        if self.feed is not None and agent.token_ids():
            try:
                await self.feed.subscribe_assets(agent.token_ids())
            except Exception:
                log.warning("agent %s: could not subscribe its tokens", entry.rec.id, exc_info=True)
        sink = None
        if self.router is not None:
            sink = self.router.add_sink(f"agent:{entry.rec.id}", 2000, event_types=cls.event_types)
        entry.sink = sink
        started = anyio.Event()
        self._tg.start_soon(self._run, entry, agent, sink, started)
        await started.wait()

    async def _run(self, entry: _Entry, agent: Agent, sink: Any, started: anyio.Event) -> None:
        done = entry.done
        try:
            with anyio.CancelScope() as scope:
                entry.scope = scope
                started.set()
                try:
                    await agent.on_start()
                    if sink is None:
                        await anyio.sleep_forever()
                    async for event in sink:
                        entry.busy = True  # set in the same step as the dequeue: `idle` never misses an event
                        entry.events += 1
                        entry.last_active_ns = self.clock.time_ns()
                        await agent.on_event(event)
                        if agent.finished:
                            await self._finish(entry, agent.finished)
                            return
                        if agent.dirty and self.clock.monotonic() - entry.last_persist >= _PERSIST_EVERY_S:
                            await self._persist_memory(entry)
                        entry.busy = False
                        self.changed.notify()
                except Exception as exc:  # agent boundary: isolate the failure
                    entry.errors += 1
                    detail = "".join(traceback.format_exception(exc)).strip()
                    log.warning("agent %s failed: %r", entry.rec.id, exc)
                    try:
                        with anyio.CancelScope(shield=True):
                            await self.append_log(entry, "error", f"agent failed: {exc!r}\n{detail}")
                            await self._set_state(entry, "error", f"{type(exc).__name__}: {exc}", kind="agent_error")
                    except Exception:
                        log.exception("agent %s: could not record its failure", entry.rec.id)
        finally:
            if sink is not None:
                sink.close()
            entry.scope = None
            entry.busy = False  # a failure, finish or cancel is recorded by now
            self.changed.notify()
            if done is not None:
                done.set()

    async def _finish(self, entry: _Entry, reason: str) -> None:
        await self._persist_memory(entry)
        await self._set_state(entry, "stopped", reason, kind="agent_finished")
        await self._release(entry)

    async def _release(self, entry: _Entry) -> None:
        if self.feed is not None and entry.agent is not None and entry.agent.token_ids():
            try:
                await self.feed.unsubscribe_assets(entry.agent.token_ids())
            except Exception:
                log.warning("agent %s: could not unsubscribe", entry.rec.id, exc_info=True)

    async def _persist_memory(self, entry: _Entry) -> None:
        if entry.agent is None:
            return
        entry.rec.memory = dict(entry.agent.memory)
        entry.rec.updated_ns = self.clock.time_ns()
        rec = entry.rec
        await self.db.write(lambda c: agents_db.update_agent(c, rec))
        entry.agent.dirty = False
        entry.last_persist = self.clock.monotonic()

    async def _set_state(self, entry: _Entry, state: str, reason: str, *, kind: str) -> None:
        rec = replace(entry.rec, memory=dict(entry.rec.memory))
        rec.state, rec.state_reason, rec.updated_ns = state, reason, self.clock.time_ns()
        if entry.agent is not None:
            rec.memory = dict(entry.agent.memory)

        def write(conn: sqlite3.Connection) -> None:
            agents_db.update_agent(conn, rec)
            self.activity.add(conn, kind, rec.id, f"agent {rec.kind} {rec.id} {state}: {reason}", {"state": state})

        await self.db.write(write)
        entry.rec = rec
        self.activity.published()
        self.changed.notify()

    # --- tool operations -----------------------------------------------------------------------

    def _get(self, agent_id: str) -> _Entry:
        entry = self._entries.get(agent_id)
        if entry is None:
            raise NotFoundError(f"Unknown agent {agent_id!r}.", known=list(self._entries))
        return entry

    async def _check_tokens(self, tokens: list[str]) -> None:
        """Each token must be known, as for paper sessions: a live book in the store or a market on Gamma."""
        for token in tokens:
            if self.books.get(token) is not None:
                continue
            if self.markets is not None:
                try:
                    await self.markets.get_market(token)
                except NotFoundError:
                    raise NotFoundError(
                        f"Unknown token id {token!r}: no market has it. Use search_markets or get_market to find one."
                    ) from None
                continue
            raise NotFoundError(
                f"Unknown token id {token!r}: there is no live book for it and no market lookup to check it; "
                "subscribe it first (or use get_market to find a valid one)."
            )

    async def start_agent(self, kind: str, config: Mapping[str, Any], session_id: str | None = None) -> AgentView:
        if self.system_gate is not None:
            self.system_gate()
        cls = self.kinds.get(kind)
        if cls is None:
            raise InvalidInputError(f"Unknown agent kind {kind!r}; kinds: {', '.join(self.kinds)}.")
        if not isinstance(config, Mapping):
            raise InvalidInputError("config must be an object.")
        parsed = cls.parse_config(config)
        if cls is MarketScannerAgent and "weights" not in parsed:
            parsed["weights"] = self.preset(parsed["preset"])
        if cls.needs_session:
            if session_id is None:
                raise InvalidInputError(f"A {kind} agent trades a paper session: pass session_id.")
            if self.paper is None:
                raise StateError("paper trading is not enabled in this server", state="no_paper")
            state = self.paper.state_of(session_id)  # NotFoundError for an unknown id
            if state == "stopped":
                raise StateError(f"Session {session_id} is stopped; create a new one.", state=state)
            token = parsed.get("token_id")
            if token is not None and token not in self.paper.tokens_of(session_id):
                raise InvalidInputError(
                    f"Token {token} is not traded by session {session_id}; its tokens: "
                    f"{', '.join(self.paper.tokens_of(session_id))}."
                )
        elif session_id is not None and self.paper is not None:
            self.paper.state_of(session_id)
        tokens = [str(t) for t in parsed.get("token_ids", [])]
        if isinstance(parsed.get("token_id"), str):
            tokens.append(parsed["token_id"])
        await self._check_tokens(tokens)
        running = sum(1 for e in self._entries.values() if e.rec.state == "running")
        if running >= MAX_AGENTS:
            raise StateError(f"At most {MAX_AGENTS} running agents; stop one first.", state="full")
        now = self.clock.time_ns()
        rec = AgentRecord(
            id="ag-" + secrets.token_hex(5),
            kind=kind,
            config=parsed,
            session_id=session_id,
            state="running",
            state_reason="started",
            memory={},
            created_ns=now,
            updated_ns=now,
        )

        def write(conn: sqlite3.Connection) -> None:
            agents_db.insert_agent(conn, rec)
            self.activity.add(conn, "agent_started", rec.id, f"agent {kind} {rec.id} started", {"config": parsed})

        await self.db.write(write)
        self.activity.published()
        entry = _Entry(rec)
        self._entries[rec.id] = entry
        await self._launch(entry)
        view = self.view(rec.id)
        if tokens:
            view.warmup = await warm_up(self.books, self.feed, tokens, self.book_warmup_s, self.clock)
        return view

    async def stop_agent(self, agent_id: str, reason: str = "stopped by user") -> AgentView:
        entry = self._get(agent_id)
        if entry.rec.state != "running":
            raise StateError(
                f"Agent {agent_id} is {entry.rec.state} ({entry.rec.state_reason}); only a running agent stops.",
                state=entry.rec.state,
            )
        await self._halt_task(entry)
        if entry.agent is not None:
            await self._persist_memory(entry)
        await self._set_state(entry, "stopped", reason, kind="agent_stopped")
        await self._release(entry)
        return self.view(agent_id)

    async def stop_for_session(self, session_id: str, reason: str) -> list[str]:
        """Stop every running agent trading ``session_id`` (its session was stopped)."""
        stopped = []
        for agent_id, entry in list(self._entries.items()):
            if entry.rec.session_id == session_id and entry.rec.state == "running":
                await self.stop_agent(agent_id, reason)
                stopped.append(agent_id)
        return stopped

    async def restart_agent(self, agent_id: str, reason: str, *, by_system: bool = False) -> AgentView:
        """Run a stopped agent again with its stored config and memory (used by start_system, ``by_system``)."""
        if not by_system and self.system_gate is not None:
            self.system_gate()
        entry = self._get(agent_id)
        if entry.rec.state == "running":
            raise StateError(f"Agent {agent_id} is already running.", state="running")
        await self._set_state(entry, "running", reason, kind="agent_started")
        await self._launch(entry)
        return self.view(agent_id)

    async def _halt_task(self, entry: _Entry) -> None:
        if entry.scope is not None:
            entry.scope.cancel()
        if entry.done is not None:
            with anyio.fail_after(10):
                await entry.done.wait()

    async def aclose(self) -> None:
        """Stop the tasks without changing stored states (a restart restores them)."""
        for entry in self._entries.values():
            if entry.scope is not None:
                entry.scope.cancel()

    @property
    def idle(self) -> bool:
        """No routed event queued for any running agent or being handled by one."""
        return not any(
            e.busy or (e.sink is not None and not e.sink.closed and len(e.sink)) for e in self._entries.values()
        )

    def running_ids(self) -> list[str]:
        return [a for a, e in self._entries.items() if e.rec.state == "running"]

    def counts_by_state(self) -> dict[str, int]:
        counts = {"running": 0, "stopped": 0, "error": 0}
        for entry in self._entries.values():
            counts[entry.rec.state] = counts.get(entry.rec.state, 0) + 1
        return counts

    def view(self, agent_id: str) -> AgentView:
        entry = self._get(agent_id)
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

    def list_agents(self) -> AgentList:
        return AgentList(
            agents=[self.view(a) for a in self._entries],
            counts=self.counts_by_state(),
            kinds={k: cls.description for k, cls in self.kinds.items()},
        )

    async def logs(
        self, agent_id: str, lines: int = 100, level: str | None = None, contains: str | None = None
    ) -> AgentLogs:
        self._get(agent_id)
        if not 1 <= lines <= MAX_LOG_LINES:
            raise InvalidInputError(f"lines must be between 1 and {MAX_LOG_LINES} (got {lines}).")
        if level is not None and level not in LOG_LEVELS:
            raise InvalidInputError(f"level must be one of {', '.join(LOG_LEVELS)} or null, not {level!r}.")
        if contains is not None and len(contains) > 200:
            raise InvalidInputError("contains must be at most 200 characters.")
        rows = await self.db.read(
            lambda c: agents_db.read_agent_logs(c, agent_id, lines=lines, level=level, contains=contains)
        )
        return AgentLogs(
            agent_id=agent_id,
            lines=[AgentLogLine(id=r.id, ts_ms=r.ts_ns // 1_000_000, level=r.level, message=r.message) for r in rows],
        )

    async def append_log(self, entry: _Entry, level: str, message: str) -> None:
        level = level if level in LOG_LEVELS else "info"
        now = self.clock.time_ns()
        await self.db.write(lambda c: agents_db.insert_agent_log(c, entry.rec.id, now, level, message[:8000]))
        entry.log_lines += 1
        self._logged(entry.rec.id, now, level, message[:8000])

    def add_log_listener(self, listener: Callable[[str, int, str, str], None]) -> None:
        """Called synchronously with ``(agent_id, ts_ns, level, message)`` after each log line commits."""
        self._log_listeners.append(listener)

    def _logged(self, agent_id: str, ts_ns: int, level: str, message: str) -> None:
        for listener in self._log_listeners:
            try:
                listener(agent_id, ts_ns, level, message)
            except Exception:  # an observer must not break the agent
                log.exception("log listener failed")

    async def record_alert(self, entry: _Entry, token_id: str, price: Decimal, message: str) -> None:
        now = self.clock.time_ns()
        agent_id = entry.rec.id

        def write(conn: sqlite3.Connection) -> None:
            agents_db.insert_alert(conn, agent_id, now, token_id, price, message)
            agents_db.insert_agent_log(conn, agent_id, now, "info", message)
            self.activity.add(conn, "alert", agent_id, message, {"token_id": token_id, "price": str(price)})

        await self.db.write(write)
        entry.log_lines += 1
        self._logged(agent_id, now, "info", message)
        self.activity.published()
        self.changed.notify()
        alert = {"type": "alert", "agent_id": agent_id, "token_id": token_id, "price": str(price), "message": message}
        for listener in self._alert_listeners:
            try:
                listener(alert)
            except Exception:  # a broken listener must not lose the (already committed) alert
                log.exception("alert listener failed")

    def add_alert_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Called synchronously with every fired alert after it is committed (e.g. MCP push)."""
        self._alert_listeners.append(listener)

    async def alerts(self, agent_id: str, limit: int = 20) -> list[AlertRecord]:
        self._get(agent_id)
        return await self.db.read(lambda c: agents_db.read_alerts(c, agent_id, limit))

    # --- presets -------------------------------------------------------------------------------

    def preset(self, name: str) -> dict[str, float]:
        found = BUILTIN_PRESETS.get(name) or self._presets.get(name)
        if found is None:
            raise NotFoundError(f"Unknown scanner preset {name!r}.", known=[*BUILTIN_PRESETS, *self._presets])
        return dict(found)

    def list_presets(self) -> PresetList:
        return PresetList(
            presets={**BUILTIN_PRESETS, **self._presets}, builtin=list(BUILTIN_PRESETS), metrics=list(METRICS)
        )

    async def save_preset(self, name: str, weights: Mapping[str, Any]) -> PresetList:
        name = name.strip()
        if not name or len(name) > 50 or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise InvalidInputError("preset name must be 1-50 letters, digits, '-' or '_'.")
        if name in BUILTIN_PRESETS or name == "custom":
            raise InvalidInputError(f"{name!r} is a built-in preset and cannot be overwritten; pick another name.")
        parsed = validate_weights(weights)
        now = self.clock.time_ns()

        def write(conn: sqlite3.Connection) -> None:
            presets_db.upsert_preset(conn, name, parsed, now)
            self.activity.add(conn, "preset_saved", "system", f"scanner preset {name} saved", {"weights": parsed})

        await self.db.write(write)
        self._presets[name] = parsed
        self.activity.published()
        return self.list_presets()

    async def delete_preset(self, name: str) -> PresetList:
        if name in BUILTIN_PRESETS:
            raise InvalidInputError(f"{name!r} is a built-in preset and cannot be deleted.")
        if name not in self._presets:
            raise NotFoundError(f"Unknown scanner preset {name!r}.", known=list(self._presets))

        def write(conn: sqlite3.Connection) -> None:
            presets_db.delete_preset(conn, name)
            self.activity.add(conn, "preset_deleted", "system", f"scanner preset {name} deleted")

        await self.db.write(write)
        del self._presets[name]
        self.activity.published()
        return self.list_presets()
