"""The :class:`Simulator`: a loopback Polymarket venue (websockets + REST) for tests, demos and offline use.

::

    async with Simulator(SimulatorConfig(seed=7, markets=4)) as sim:
        settings = Settings.from_env(sim.env())
        ...
        sim.faults.drop_all()
        await sim.wait_until(lambda: len(sim.observed.open_on("/ws/market")) == 1)

One broadcast loop pulls frames from the event sources every tick (virtual time, frozen while paused)
and hands them to the websocket server, which queues them per connection. Everything runs on the
caller's event loop; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from .auth import CredentialStore
from .config import SimulatorConfig
from .control import build_handler
from .faults import Faults
from .market_model import MarketModel
from .observe import Observations
from .polybolt import PolyBoltServer
from .rest_server import RestServer
from .rtds import RtdsSource
from .source import BookSource, EventSource, ModelSource
from .sports import SPORTS_PATH, SportsServer, SportsSource
from .user import UserActivity
from .wire import OutFrame
from .ws_server import WsServer

__all__ = ["Simulator"]

logger = logging.getLogger(__name__)


class Simulator:
    """Async context manager running the simulated venue on 127.0.0.1 (ports from the config, default 0).

    Args:
        config: behaviour knobs; default :class:`SimulatorConfig`.
        source: market-channel source replacing the model's random walk (e.g. a recording replay);
            the model still backs Gamma and the user channel.
    """

    def __init__(self, config: SimulatorConfig | None = None, *, source: BookSource | None = None) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        self.model = MarketModel(
            seed=cfg.seed, markets=cfg.markets, book_depth=cfg.book_depth, now_ms=_now_ms, v2_every=cfg.v2_every
        )
        self.model_source = ModelSource(self.model, rate_per_s=cfg.rate_per_s, tick_interval_s=cfg.tick_interval_s)
        self.source: BookSource = source if source is not None else self.model_source
        self.observed = Observations()
        self.credentials = CredentialStore(
            seed=cfg.seed, chain_id=cfg.chain_id, window_s=cfg.auth_window_s, now_s=self.now_s
        )
        self.ws = WsServer(
            source=self.source,
            observations=self.observed,
            authenticator=self.credentials,
            dump_delay_s=cfg.initial_dump_delay_s,
            batch_frames=cfg.batch_frames,
        )
        self.rtds = RtdsSource(
            seed=cfg.seed,
            rate_per_s=cfg.rtds_rate_per_s,
            event_ids=sorted({m.event_id for m in self.model.markets})[:3],
            now_ms=_now_ms,
        )
        self.polybolt = PolyBoltServer(
            authenticator=self.credentials,
            observations=self.observed,
            on_subscribe=getattr(self.source, "on_subscribe", None),
            seed=cfg.seed,
            rate_per_s=cfg.polybolt_rate_per_s,
            now_ms=_now_ms,
        )
        self.user = UserActivity(
            seed=cfg.seed, model=self.model, account=cfg.account, connections=self.ws.user_connections, now_ms=_now_ms
        )
        self.sports_source = SportsSource(seed=cfg.seed, rate_per_s=cfg.sports_rate_per_s, now_ms=_now_ms)
        self.sports = SportsServer(
            observations=self.observed,
            ping_interval_s=cfg.sports_ping_interval_s,
            pong_timeout_s=cfg.sports_pong_timeout_s,
            on_connect=self._sports_connected,
        )
        self.rest = RestServer(build_handler(self))
        self.extra_sources: list[EventSource] = []
        """More sources polled every tick (virtual time), e.g. a replay of RTDS frames."""
        self.paused = False
        self.frames_dispatched = 0
        self._sim_time = 0.0
        self._task: asyncio.Task[None] | None = None
        self._resolved_on_schedule = False
        self._next_new_market = cfg.new_market_every_s

    # ------------------------------------------------------------------ endpoints

    @property
    def faults(self) -> Faults:
        return self.ws.faults

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.ws.port}/ws"

    @property
    def rtds_url(self) -> str:
        return f"ws://{self.config.host}:{self.ws.port}"

    @property
    def polybolt_url(self) -> str:
        return f"ws://{self.config.host}:{self.polybolt.port}/ws"

    @property
    def sports_url(self) -> str:
        return f"ws://{self.config.host}:{self.sports.port}{SPORTS_PATH}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.config.host}:{self.rest.port}"

    def env(self) -> dict[str, str]:
        """Environment variables pointing every venue endpoint at this simulator."""
        return {
            "POLYMARKET_CLOB_WS_URL": self.ws_url,
            "POLYMARKET_RTDS_WS_URL": self.rtds_url,
            "POLYMARKET_POLYBOLT_WS_URL": self.polybolt_url,
            "POLYMARKET_SPORTS_WS_URL": self.sports_url,
            "POLYMARKET_CLOB_URL": self.rest_url,
            "POLYMARKET_GAMMA_URL": self.rest_url,
        }

    def now_s(self) -> float:
        """Simulator wall clock in seconds, including ``time_offset_s`` (what ``GET /time`` reports)."""
        return time.time() + self.config.time_offset_s

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.ws.start(self.config.host, self.config.ws_port)
        await self.rest.start(self.config.host, self.config.rest_port)
        await self.polybolt.start(self.config.host, self.config.polybolt_port)
        await self.sports.start(self.config.host, self.config.sports_port)
        self._task = asyncio.create_task(self._loop(), name="simulator-broadcast")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.ws.stop()
        await self.polybolt.stop()
        await self.rest.stop()
        await self.sports.stop()

    # ------------------------------------------------------------------ control

    def step(self, n: int = 1) -> list[OutFrame]:
        """Advance the model ``n`` events synchronously and broadcast them (deterministic tests)."""
        return self.publish(self.model.step(n))

    def publish(self, frames: Sequence[OutFrame]) -> list[OutFrame]:
        """Broadcast frames now (to the connections they concern) and wake waiters."""
        if any(f.channel == "polybolt" for f in frames):
            self.frames_dispatched += sum(self.polybolt.replay(f.text) for f in frames if f.channel == "polybolt")
            frames = [f for f in frames if f.channel != "polybolt"]
        self.frames_dispatched += self.ws.dispatch(frames) + self.sports.dispatch(frames)
        self.observed.notify()
        return list(frames)

    def pause(self) -> None:
        """Stop generating market, RTDS and sports events (user lifecycles and faults still work)."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def set_rate(self, per_s: float) -> None:
        self.model_source.set_rate(per_s)

    def resolve_market(self, condition_id: str | None = None, winner: int | None = None) -> list[OutFrame]:
        return self.publish(self.model.resolve(condition_id, winner))

    def add_market(self) -> list[OutFrame]:
        return self.publish(self.model.add_market())

    def move_price(self, condition_id: str, price_units: int) -> list[OutFrame]:
        return self.publish(self.model.move_price(condition_id, price_units))

    def sports_update(self, game_key: str | None = None) -> list[OutFrame]:
        """Publish one game update now (``game_key``: a gameId or slug; default the first game)."""
        source = self.sports_source
        game = source.game(game_key) if game_key is not None else source.games[0]
        return self.publish([source.update(game)])

    def _sports_connected(self) -> None:
        # A recording replay starts its clock on the first subscription; sports has none, so: on connect.
        hook = getattr(self.source, "on_subscribe", None)
        if hook is not None:
            hook("sports")

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109  # part of the test-facing contract; applied inside
    ) -> None:
        """Wait for ``predicate()`` to hold, re-checked on every observation change and every tick."""
        await self.observed.wait_until(predicate, timeout)

    async def broadcast_raw(self, path: str, text: str) -> int:
        """Send ``text`` as one frame to every connection on ``path`` ("/ws/market", "/ws/user", "/")."""
        count = await self.ws.broadcast_raw(path, text)
        self.observed.notify()
        return count

    # ------------------------------------------------------------------ loop

    async def _loop(self) -> None:
        interval = self.config.tick_interval_s
        last = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            elapsed, last = now - last, now
            frames: list[OutFrame] = []
            try:
                frames.extend(self.user.poll(now))
                if not self.paused:
                    self._sim_time += elapsed
                    frames.extend(self._scheduled())
                    frames.extend(self.source.poll(self._sim_time))
                    frames.extend(self.rtds.poll(self._sim_time))
                    self.polybolt.poll(self._sim_time)
                    frames.extend(self.sports_source.poll(self._sim_time))
                    for extra in self.extra_sources:
                        frames.extend(extra.poll(self._sim_time))
                self.publish(frames)
            except Exception:  # the loop must survive a bad source; the error is logged
                logger.exception("simulator tick failed")

    def _scheduled(self) -> list[OutFrame]:
        cfg = self.config
        out: list[OutFrame] = []
        if (
            cfg.resolve_after_s is not None
            and not self._resolved_on_schedule
            and self._sim_time >= cfg.resolve_after_s
            and len(self.model.active_markets()) > 1
        ):
            self._resolved_on_schedule = True
            out.extend(self.model.resolve())
        if self._next_new_market is not None and self._sim_time >= self._next_new_market:
            self._next_new_market += cfg.new_market_every_s or 0.0
            out.extend(self.model.add_market())
        return out


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
