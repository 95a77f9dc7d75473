"""AgentService: runs agents, each in its own task on its own router sink, persisted in SQLite.

The registry of kinds and agent lifecycle (start, stop, restart, memory) around one task per agent;
admission checks are :mod:`.admission`, each agent's run-time entry and context :mod:`.entry`, logs and
alerts :mod:`.journal`, scanner presets :mod:`.presets`; the agent kinds, alert rules, records and the
system switch are their own modules.

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
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, NotFoundError, StateError
from ..model.agent_records import AgentRecord, AlertRecord
from ..model.book import BookReader
from ..paper.warmup import warm_up
from ..storage import agents as agents_db
from ..storage.activity import ActivityFeed, ChangeSignal
from ..storage.db import Database
from .admission import check_session, check_tokens
from .base import Agent
from .entry import AgentCtx, AgentEntry
from .journal import AgentJournal
from .models import AgentList, AgentLogs, AgentView, PresetList
from .presets import PresetStore
from .price_alert import PriceAlertAgent
from .scanner import MarketScannerAgent
from .strategy import StrategyAgent

if TYPE_CHECKING:
    from ..paper.service import MarketLookup, PaperService

__all__ = ["AgentService"]

log = logging.getLogger(__name__)
MAX_AGENTS = 100
_PERSIST_EVERY_S = 1.0


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
        self.kinds: dict[str, type[Agent]] = {
            cls.kind: cls for cls in (PriceAlertAgent, MarketScannerAgent, StrategyAgent)
        }
        self._entries: dict[str, AgentEntry] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self.changed = ChangeSignal()
        """Notified after every agent state change, alert and handled event."""
        self.journal = AgentJournal(db, activity, clock, self.changed)
        self.presets = PresetStore(db, activity, clock)

    def register_kind(self, cls: type[Agent]) -> None:
        """Add an agent kind (extensions and tests)."""
        self.kinds[cls.kind] = cls

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Load agents and presets; restart every agent that was running."""
        self._tg = task_group
        await self.presets.load()
        for rec in await self.db.read(agents_db.load_agents):
            entry = AgentEntry(rec)
            self._entries[rec.id] = entry
            if rec.state == "running":
                await self._launch(entry)

    async def _launch(self, entry: AgentEntry) -> None:
        cls = self.kinds.get(entry.rec.kind)
        if cls is None or self._tg is None:
            await self._set_state(entry, "error", f"unknown agent kind {entry.rec.kind!r}", kind="agent_error")
            return
        ctx = AgentCtx(
            entry,
            books=self.books,
            clock=self.clock,
            activity=self.activity,
            paper=self.paper,
            log=self.journal.append_log,
            alert=self.journal.record_alert,
        )
        agent = cls(entry.rec.config, ctx, dict(entry.rec.memory))
        entry.agent = agent
        entry.done = anyio.Event()
        # The sink exists before the subscription is asked for: a snapshot that arrives while
        # subscribe_assets is awaited is queued for the agent instead of being routed to nobody.
        sink = None
        if self.router is not None:
            sink = self.router.add_sink(f"agent:{entry.rec.id}", 2000, event_types=cls.event_types)
        entry.sink = sink
        if self.feed is not None and agent.token_ids():
            try:
                await self.feed.subscribe_assets(agent.token_ids())
            except Exception:
                log.warning("agent %s: could not subscribe its tokens", entry.rec.id, exc_info=True)
        started = anyio.Event()
        self._tg.start_soon(self._run, entry, agent, sink, started)
        await started.wait()

    async def _run(self, entry: AgentEntry, agent: Agent, sink: Any, started: anyio.Event) -> None:
        done = entry.done
        try:
            with anyio.CancelScope() as scope:
                entry.scope = scope
                try:
                    try:
                        await agent.on_start()  # before start_agent answers: its view shows a started agent
                    finally:
                        started.set()
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
                            await self.journal.append_log(entry, "error", f"agent failed: {exc!r}\n{detail}")
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

    async def _finish(self, entry: AgentEntry, reason: str) -> None:
        await self._persist_memory(entry)
        await self._set_state(entry, "stopped", reason, kind="agent_finished")
        await self._release(entry)

    async def _release(self, entry: AgentEntry) -> None:
        if self.feed is not None and entry.agent is not None and entry.agent.token_ids():
            try:
                await self.feed.unsubscribe_assets(entry.agent.token_ids())
            except Exception:
                log.warning("agent %s: could not unsubscribe", entry.rec.id, exc_info=True)

    async def _persist_memory(self, entry: AgentEntry) -> None:
        if entry.agent is None:
            return
        entry.rec.memory = dict(entry.agent.memory)
        entry.rec.updated_ns = self.clock.time_ns()
        rec = entry.rec
        await self.db.write(lambda c: agents_db.update_agent(c, rec))
        entry.agent.dirty = False
        entry.last_persist = self.clock.monotonic()

    async def _set_state(self, entry: AgentEntry, state: str, reason: str, *, kind: str) -> None:
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

    def _get(self, agent_id: str) -> AgentEntry:
        entry = self._entries.get(agent_id)
        if entry is None:
            raise NotFoundError(f"Unknown agent {agent_id!r}.", known=list(self._entries))
        return entry

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
        check_session(self.paper, cls, kind, parsed, session_id)
        tokens = [str(t) for t in parsed.get("token_ids", [])]
        if isinstance(parsed.get("token_id"), str):
            tokens.append(parsed["token_id"])
        await check_tokens(self.books, self.markets, tokens)
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
        entry = AgentEntry(rec)
        self._entries[rec.id] = entry
        await self._launch(entry)
        warmup = None
        if tokens:
            warmup = await warm_up(self.books, self.feed, tokens, self.book_warmup_s, self.clock)
            if entry.agent is not None:
                entry.agent.on_warm()
        view = self.view(rec.id)  # after the warm-up: its stats show what the agent saw meanwhile
        view.warmup = warmup
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

    async def _halt_task(self, entry: AgentEntry) -> None:
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
        return self._get(agent_id).view()

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
        return await self.journal.logs(agent_id, lines, level, contains)

    def add_log_listener(self, listener: Callable[[str, int, str, str], None]) -> None:
        """Called synchronously with ``(agent_id, ts_ns, level, message)`` after each log line commits."""
        self.journal.add_log_listener(listener)

    def add_alert_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Called synchronously with every fired alert after it is committed (e.g. MCP push)."""
        self.journal.add_alert_listener(listener)

    async def alerts(self, agent_id: str, limit: int = 20) -> list[AlertRecord]:
        self._get(agent_id)
        return await self.journal.alerts(agent_id, limit)

    # --- presets -------------------------------------------------------------------------------

    def preset(self, name: str) -> dict[str, float]:
        return self.presets.get(name)

    def list_presets(self) -> PresetList:
        return self.presets.listing()

    async def save_preset(self, name: str, weights: Mapping[str, Any]) -> PresetList:
        return await self.presets.save(name, weights)

    async def delete_preset(self, name: str) -> PresetList:
        return await self.presets.delete(name)
