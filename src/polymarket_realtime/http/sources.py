"""Feed the hub from the services' own change signals (never by polling the database in a loop).

* ``activity``: the activity feed's publish listener wakes a reader that publishes every new entry.
* ``system``: the status again after activity (coalesced) and every few seconds (uptime, feed health).
* ``sessions``: a session's view after each of its commands, and when its marks move (summaries
  compared once a second).
* ``commands:<session_id>``: the paper service's command sink (``paper/commands.py``) straight into the hub.
* ``agents``: views of agents whose state/counters changed, after :attr:`AgentService.changed` (coalesced).
* ``logs:<agent_id>``: the agent service's log listener (only for channels someone has opened).
* ``market:<token_id>``: a router sink for book events of watched tokens (coalesced per token); the
  token is subscribed at the feed while at least one client watches it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc

from ..agents.service import AgentService
from ..agents.system import SystemService
from ..app.root import Application
from ..errors import PolymarketRealtimeError, StateError
from ..paper.service import PaperService
from ..routing.router import BOOK_EVENT_TYPES
from ..storage.activity import ActivityFeed, ChangeSignal
from .hub import Hub

__all__ = ["ACTIVITY_SNAPSHOT", "Sources", "command_frame", "commands_channel", "market_view"]

log = logging.getLogger(__name__)

ACTIVITY_SNAPSHOT = 200
LOG_SNAPSHOT = 200
_SYSTEM_EVERY_S = 5.0
_MARKS_EVERY_S = 1.0
_COALESCE_S = 0.1
_AGENTS_COALESCE_S = 0.25
_SERVICES_EVERY_S = 2.0


COMMAND_BUFFER = 256
"""Commands kept per session for replay (there may be hundreds of sessions)."""


def commands_channel(hub: Hub, session_id: str) -> str:
    """Create (if new) and name the command channel of one session."""
    name = f"commands:{session_id}"
    hub.channel(name, command_frame, buffer_size=COMMAND_BUFFER)
    return name


def command_frame(channel: str, seq: int, data: Any) -> dict[str, Any]:
    return {
        "type": "command",
        "seq": seq,
        "session_id": channel.removeprefix("commands:"),
        "kind": data["kind"],
        "ts": data["ts"],
        "data": data["data"],
    }


def market_view(app: Application, token_id: str) -> dict[str, Any]:
    book = app.books.get(token_id)
    now = app.clock.time_ns()
    if book is None:
        return {
            "token_id": token_id,
            "best_bid": None,
            "best_ask": None,
            "mid": None,
            "last_trade_price": None,
            "stale": True,
            "ts": now // 1_000_000,
        }
    view = book.view(1, now)
    return {
        "token_id": token_id,
        "best_bid": view.get("best_bid"),
        "best_ask": view.get("best_ask"),
        "mid": view.get("mid"),
        "last_trade_price": view.get("last_trade_price"),
        "stale": bool(view.get("stale", False)),
        "ts": now // 1_000_000,
    }


class Sources:
    def __init__(self, app: Application, hub: Hub) -> None:
        self.app = app
        self.hub = hub
        self.paper: PaperService | None = None
        self.agents: AgentService | None = None
        self.system: SystemService | None = None
        self.activity: ActivityFeed | None = None
        self.activity_cursor = 0
        self._activity_signal = ChangeSignal()
        self._sessions_signal = ChangeSignal()
        self._markets_signal = ChangeSignal()
        self._dirty_sessions: set[str] = set()
        self._dirty_markets: set[str] = set()
        self._last_summaries: dict[str, str] = {}
        self._last_agents: dict[str, str] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._wired_scope: anyio.CancelScope | None = None
        self._wired: tuple[Any, Any, Any, Any] = (None, None, None, None)
        self.rewired = ChangeSignal()
        """Notified after the hub is hooked to a (new) set of services."""
        self.market_events = 0
        self.remote: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
        """Redis mode on a server that does not own sessions/agents: asks the owner (``http/redis_bridge.py``)."""

    # --- wiring --------------------------------------------------------------------------------

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        self._tg = tg
        self.hub.watch_listeners.append(self._on_watch)
        sink = self.app.router.add_sink("dashboard-markets", 10_000, event_types=BOOK_EVENT_TYPES)
        tg.start_soon(self._market_events, sink, name="dashboard-market-events")
        tg.start_soon(self._markets_loop, name="dashboard-markets")
        await self._wire(self._lookup())
        tg.start_soon(self._follow_services, name="dashboard-services")

    def _lookup(self) -> tuple[Any, Any, Any, Any]:
        found = self.app.sessions
        if found is None:
            return (None, None, None, None)
        return (found.paper, found.agents, found.system, found.activity)

    async def _wire(self, found: tuple[Any, Any, Any, Any]) -> None:
        """Hook the hub to this set of services; the loops of an earlier set are cancelled."""
        if self._wired_scope is not None:
            self._wired_scope.cancel()
        if self.paper is not None and self.paper.command_sink == self.on_command:
            self.paper.command_sink = None
        self.paper, self.agents, self.system, self.activity = found
        self._wired = found
        assert self._tg is not None
        started = anyio.Event()
        self._tg.start_soon(self._run_wired, started, name="dashboard-service-loops")
        await started.wait()
        self.rewired.notify()

    async def _run_wired(self, started: anyio.Event) -> None:
        with anyio.CancelScope() as scope:
            self._wired_scope = scope
            async with anyio.create_task_group() as tg:
                if self.activity is not None and self.system is not None:
                    self.activity_cursor = (await self.system.read_activity(0, 1)).latest_seq
                    self.activity.add_listener(self._activity_signal.notify)
                    tg.start_soon(self._activity_loop, name="dashboard-activity")
                    tg.start_soon(self._system_loop, name="dashboard-system")
                if self.paper is not None:
                    self.paper.command_sink = self.on_command
                    tg.start_soon(self._sessions_loop, name="dashboard-sessions")
                if self.agents is not None:
                    self.agents.add_log_listener(self.on_log)
                    tg.start_soon(self._agents_loop, name="dashboard-agents")
                started.set()

    async def _follow_services(self) -> None:
        """Services can appear or change after start: ``enable_toolsets`` starting the paper extension, or
        this server taking over sessions in Redis mode. No signal exists for that, so check now and then."""
        while True:
            await anyio.sleep(_SERVICES_EVERY_S)
            found = self._lookup()
            if any(a is not b for a, b in zip(found, self._wired, strict=True)):
                log.info("dashboard: paper/agent/system services changed; re-wiring the push channels")
                await self._wire(found)

    def close(self) -> None:
        if self.paper is not None and self.paper.command_sink == self.on_command:
            self.paper.command_sink = None

    # --- pushes from the services (synchronous, never block) --------------------------------------

    def on_command(self, session_id: str, kind: str, data: dict[str, Any]) -> None:
        name = commands_channel(self.hub, session_id)
        self.hub.publish(name, {"kind": kind, "ts": self.app.clock.time_ns() // 1_000_000, "data": data})
        if kind != "order_intent":
            self._dirty_sessions.add(session_id)
            self._sessions_signal.notify()

    def on_log(self, agent_id: str, ts_ns: int, level: str, message: str) -> None:
        name = f"logs:{agent_id}"
        # Someone opened this agent's log channel (kept for replay once opened), here or on another server.
        if self.hub.has(name) or (self.hub.mirrored is not None and self.hub.mirrored(name)):
            self.hub.publish(name, {"ts": ts_ns // 1_000_000, "level": level, "message": message})

    def _on_watch(self, channel: str, watching: bool) -> None:
        if not channel.startswith("market:") or self._tg is None:
            return
        token = channel.removeprefix("market:")
        feed: Any = self.app.feed
        call = feed.subscribe_assets if watching else feed.unsubscribe_assets
        self._tg.start_soon(self._feed_call, call, token)

    async def _feed_call(self, call: Callable[[list[str]], Awaitable[Any]], token: str) -> None:
        try:
            await call([token])
        except Exception:  # the dashboard watching a market must never take the server down
            log.warning("dashboard: feed (un)subscribe of %s failed", token, exc_info=True)

    # --- snapshots -----------------------------------------------------------------------------

    async def snapshot(self, channel: str) -> Any:
        """Current state of ``channel`` (raises our errors for unknown or unavailable channels)."""
        if self.remote is not None and self.paper is None and not channel.startswith("market:"):
            return (await self.remote("snapshot", {"channel": channel})).get("data")
        if channel == "system":
            return (await self._need(self.system, "system").status()).model_dump(mode="json")
        if channel == "activity":
            system = self._need(self.system, "activity")
            cursor = self.activity_cursor  # entries up to the last one published: events continue after it
            page = await system.read_activity(max(0, cursor - ACTIVITY_SNAPSHOT), ACTIVITY_SNAPSHOT)
            return [e.model_dump(mode="json") for e in page.entries if e.seq <= cursor]
        if channel == "sessions":
            paper = self._need(self.paper, "sessions")
            return [(await paper.get_session(sid)).model_dump(mode="json") for sid in paper.session_ids()]
        if channel == "agents":
            return [a.model_dump(mode="json") for a in self._need(self.agents, "agents").list_agents().agents]
        if channel.startswith("logs:"):
            agents = self._need(self.agents, "logs")
            logs = await agents.logs(channel.removeprefix("logs:"), LOG_SNAPSHOT)
            return [{"ts": line.ts_ms, "level": line.level, "message": line.message} for line in logs.lines]
        if channel.startswith("market:"):
            return market_view(self.app, channel.removeprefix("market:"))
        raise PolymarketRealtimeError(f"unknown channel {channel!r}")

    @staticmethod
    def _need(service: Any, channel: str) -> Any:
        if service is None:
            raise StateError(
                f"channel {channel!r} needs the paper/agents/system services, which are not running in this server",
                state="unavailable",
            )
        return service

    # --- loops ---------------------------------------------------------------------------------

    async def _activity_loop(self) -> None:
        assert self.system is not None
        while True:
            wake = self._activity_signal.next()
            page = await self.system.read_activity(self.activity_cursor, 500)
            for entry in page.entries:
                self.hub.publish("activity", entry.model_dump(mode="json"))
                self.activity_cursor = entry.seq
            if len(page.entries) == 500:
                continue
            await wake.wait()

    async def _system_loop(self) -> None:
        assert self.system is not None
        while True:
            wake = self._activity_signal.next()
            if not self.hub.listened("system"):
                with anyio.move_on_after(_SYSTEM_EVERY_S):
                    await wake.wait()
                continue
            try:
                self.hub.publish("system", (await self.system.status()).model_dump(mode="json"))
            except PolymarketRealtimeError as exc:
                log.warning("dashboard: system status failed: %s", exc)
            with anyio.move_on_after(_SYSTEM_EVERY_S):
                await wake.wait()
            await anyio.sleep(0.5)  # coalesce bursts of activity into one status

    async def _sessions_loop(self) -> None:
        assert self.paper is not None
        paper = self.paper
        next_marks = 0.0
        while True:
            wake = self._sessions_signal.next()
            now = self.app.clock.monotonic()
            if not self.hub.listened("sessions"):  # no dashboard open: views are computed on subscribe
                self._dirty_sessions.clear()
                self._last_summaries.clear()
                with anyio.move_on_after(_MARKS_EVERY_S):
                    await wake.wait()
                continue
            if now >= next_marks:
                next_marks = now + _MARKS_EVERY_S
                for s in paper.list_sessions().sessions:
                    dumped = s.model_dump_json()
                    if self._last_summaries.get(s.session_id) != dumped:
                        self._last_summaries[s.session_id] = dumped
                        self._dirty_sessions.add(s.session_id)
            dirty, self._dirty_sessions = self._dirty_sessions, set()
            for session_id in sorted(dirty):
                try:
                    view = await paper.get_session(session_id)
                except PolymarketRealtimeError:
                    continue
                self.hub.publish("sessions", view.model_dump(mode="json"))
            with anyio.move_on_after(max(0.0, next_marks - self.app.clock.monotonic())):
                await wake.wait()
            await anyio.sleep(_COALESCE_S)

    async def _agents_loop(self) -> None:
        assert self.agents is not None
        agents = self.agents
        while True:
            wake = agents.changed.next()
            if not self.hub.listened("agents"):
                self._last_agents.clear()
                await wake.wait()
                continue
            for view in agents.list_agents().agents:
                dumped = view.model_dump_json()
                if self._last_agents.get(view.agent_id) != dumped:
                    self._last_agents[view.agent_id] = dumped
                    self.hub.publish("agents", view.model_dump(mode="json"))
            await wake.wait()
            await anyio.sleep(_AGENTS_COALESCE_S)

    async def _market_events(self, sink: Any) -> None:
        try:
            async for event in sink:
                token = getattr(event, "asset_id", None)
                if token is not None and self.hub.subscribers(f"market:{token}"):
                    self.market_events += 1
                    self._dirty_markets.add(token)
                    self._markets_signal.notify()
        finally:
            sink.close()

    async def _markets_loop(self) -> None:
        while True:
            wake = self._markets_signal.next()
            dirty, self._dirty_markets = self._dirty_markets, set()
            for token in sorted(dirty):
                self.hub.publish(f"market:{token}", market_view(self.app, token))
            await wake.wait()
            await anyio.sleep(_COALESCE_S)
