"""The simulated sports socket: its own websockets server (own port, path ``/ws``) and a game generator.

Behaviour, as the venue documents it:

* no subscription frame: every connection receives every game update from the moment it opens;
* the **server** sends the text frame ``ping`` every ``ping_interval_s`` (5 s by default) and closes the
  connection (1008) when no ``pong`` arrived within ``pong_timeout_s`` (10 s) of an unanswered ping;
* game updates are bare JSON objects in one of two shapes: keyed by a numeric ``gameId`` (with
  ``leagueAbbreviation``, ``homeTeam``, ``awayTeam``) or keyed by ``slug`` (with ``last_update``,
  ``finished_timestamp``, ``turn``); ``score`` is ``"<home>-<away>"``.

Frames reach the server as :class:`~.wire.OutFrame` with ``channel="sports"`` through
:meth:`Simulator.publish` (the generator below, or a recording replay). Tests observe connections under
the path key :data:`SPORTS_OBS_PATH` and the counters on :class:`SportsServer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .observe import ConnectionObservation, Observations
from .wire import OutFrame, dumps

__all__ = ["SPORTS_OBS_PATH", "SPORTS_PATH", "SportsServer", "SportsSource"]

logger = logging.getLogger(__name__)

SPORTS_PATH = "/ws"
SPORTS_OBS_PATH = "sports"
"""Key of sports connections in :class:`~.observe.Observations` (the path alone would clash with others)."""


@dataclass
class _Game:
    key: str
    schema: str  # "game_id" or "slug"
    league: str
    home: str
    away: str
    periods: tuple[str, ...]
    home_score: int = 0
    away_score: int = 0
    period_no: int = 0
    clock_s: int = 0
    ended: bool = False


_GAMES = (
    # (schema, key, league, home, away, periods)
    ("game_id", "5127839", "NBA", "Los Angeles Lakers", "Boston Celtics", ("Q1", "Q2", "Q3", "Q4")),
    ("game_id", "5127840", "NHL", "Toronto Maple Leafs", "Montreal Canadiens", ("P1", "P2", "P3")),
    ("slug", "sea-sf-2025-02-03", "NFL", "sea", "sf", ("Q1", "Q2", "Q3", "Q4")),
    ("slug", "ars-che-2025-02-03", "EPL", "ars", "che", ("1H", "2H")),
)


class SportsSource:
    """Generates game updates at ``rate_per_s`` (virtual time), deterministic per seed, both shapes."""

    def __init__(self, *, seed: int, rate_per_s: float, now_ms: Callable[[], int]) -> None:
        self._rng = random.Random(seed * 97 + 13)
        self.rate_per_s = rate_per_s
        self._now_ms = now_ms
        self.games = [_Game(k, s, lg, h, a, p) for s, k, lg, h, a, p in _GAMES]
        self._last: float | None = None
        self._carry = 0.0

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        last = self._last if self._last is not None else sim_time_s
        self._last = sim_time_s
        if self.rate_per_s <= 0:
            return []
        due = min(self._carry + (sim_time_s - last) * self.rate_per_s, 20.0)
        count = int(due)
        self._carry = due - count
        return [self.update(self.games[self._rng.randrange(len(self.games))]) for _ in range(count)]

    def game(self, key: str) -> _Game:
        for game in self.games:
            if game.key == key:
                return game
        raise KeyError(key)

    def update(self, game: _Game) -> OutFrame:
        """Advance ``game`` one step (a score, the clock, a new period or the end) and return its update."""
        if not game.ended:
            roll = self._rng.random()
            if roll < 0.3:
                game.home_score += 1
            elif roll < 0.6:
                game.away_score += 1
            game.clock_s += self._rng.randrange(20, 120)
            if game.clock_s >= 12 * 60:
                game.clock_s = 0
                game.period_no += 1
                if game.period_no >= len(game.periods):
                    game.ended = True
        return OutFrame(channel="sports", text=dumps(self._wire(game)), event_type=game.league)

    def _wire(self, game: _Game) -> dict[str, Any]:
        score = f"{game.home_score}-{game.away_score}"
        period = "FT" if game.ended else game.periods[game.period_no]
        elapsed = "" if game.ended else f"{game.clock_s // 60:02d}:{game.clock_s % 60:02d}"
        if game.schema == "game_id":
            return {
                "gameId": int(game.key),
                "leagueAbbreviation": game.league,
                "homeTeam": game.home,
                "awayTeam": game.away,
                "status": "Final" if game.ended else "InProgress",
                "live": not game.ended,
                "ended": game.ended,
                "score": score,
                "period": period,
                "elapsed": elapsed,
            }
        now = self._now_ms()
        body: dict[str, Any] = {
            "slug": game.key,
            "live": not game.ended,
            "ended": game.ended,
            "score": score,
            "period": period,
            "elapsed": elapsed,
            "last_update": _iso(now),
        }
        if game.ended:
            body["finished_timestamp"] = _iso(now - 1000)
        else:
            body["turn"] = game.home if game.clock_s % 2 == 0 else game.away
        return body


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    obs: ConnectionObservation
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    pings_sent: int = 0
    pongs: int = 0
    deadline: float | None = None
    """Monotonic time by which a pong must arrive (None: no ping outstanding)."""


class SportsServer:
    """The sports websocket. Create, then ``await start(host, port)``.

    Args:
        observations: shared with the rest of the simulator (connections appear under ``"sports"``).
        ping_interval_s / pong_timeout_s: the heartbeat (venue: 5 s and 10 s).
        on_connect: called on every accepted connection (a replay starts its clock on it).
    """

    def __init__(
        self,
        *,
        observations: Observations,
        ping_interval_s: float = 5.0,
        pong_timeout_s: float = 10.0,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.observations = observations
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self._on_connect = on_connect
        self._ids = itertools.count(1)
        self._conns: set[_Conn] = set()
        self._server: Server | None = None
        self.port = 0
        self.pings_sent = 0
        self.pongs_received = 0
        self.closed_for_no_pong = 0
        self.unexpected_frames = 0
        """Client frames other than ``pong`` (the socket takes no subscription)."""

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # ------------------------------------------------------------------ sending

    def dispatch(self, frames: Sequence[OutFrame]) -> int:
        """Queue every ``sports`` frame for every open connection; returns frames queued."""
        texts = [f.text for f in frames if f.channel == "sports"]
        if not texts:
            return 0
        for conn in self._conns:
            for text in texts:
                conn.queue.put_nowait(text)
        return len(texts) * len(self._conns)

    def drop_all(self) -> int:
        """Abort every connection without a close frame (a network drop)."""
        conns = list(self._conns)
        for conn in conns:
            conn.ws.transport.abort()
        self.observations.fault("sports_drop_all")
        return len(conns)

    @property
    def connections(self) -> int:
        return len(self._conns)

    # ------------------------------------------------------------------ connections

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if (urlsplit(request.path).path or "/") != SPORTS_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        conn = _Conn(ws=ws, obs=self.observations.connection_opened(next(self._ids), SPORTS_OBS_PATH))
        conn.obs.subscribed = True  # no subscription frame: everything streams at once
        self._conns.add(conn)
        if self._on_connect is not None:
            self._on_connect()
        tasks = [asyncio.create_task(self._writer(conn)), asyncio.create_task(self._heartbeat(conn))]
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                conn.obs.frames.append((time.monotonic(), text))
                if text.strip().lower() == "pong":
                    conn.pongs += 1
                    self.pongs_received += 1
                    conn.deadline = None
                else:
                    self.unexpected_frames += 1
                self.observations.notify()
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
            self._conns.discard(conn)
            conn.obs.closed_at = time.monotonic()
            self.observations.notify()

    async def _writer(self, conn: _Conn) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                text = await conn.queue.get()
                await conn.ws.send(text)
                conn.obs.frames_sent += 1

    async def _heartbeat(self, conn: _Conn) -> None:
        """``ping`` every interval; close when a ping stays unanswered for ``pong_timeout_s``."""
        with contextlib.suppress(ConnectionClosed):
            next_ping = time.monotonic() + self.ping_interval_s
            while True:
                wake = next_ping if conn.deadline is None else min(next_ping, conn.deadline)
                await asyncio.sleep(max(0.0, wake - time.monotonic()))
                now = time.monotonic()
                if conn.deadline is not None and now >= conn.deadline:
                    self.closed_for_no_pong += 1
                    self.observations.notify()
                    await conn.ws.close(1008, f"no pong within {self.pong_timeout_s:g}s")
                    return
                if now >= next_ping:
                    next_ping = now + self.ping_interval_s
                    # Bypasses the data queue: a venue pings even while it streams a backlog.
                    await conn.ws.send("ping")
                    conn.pings_sent += 1
                    self.pings_sent += 1
                    if conn.deadline is None:
                        conn.deadline = now + self.pong_timeout_s
                    self.observations.notify()
