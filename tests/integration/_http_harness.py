"""The control room served for real: simulator + our MCP server + uvicorn on a free loopback port.

``serving(...)`` is an async context manager used inside test bodies (like ``_mcp_harness.running``).
It binds the port itself, so the address is known before uvicorn starts and connections made early
wait in the backlog; ``room.ready`` says the services are up. No sleeps anywhere.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from websockets.asyncio.client import ClientConnection, connect

from polymarket_realtime.config import Settings
from polymarket_realtime.http.host import ControlRoom, HttpOptions, bind_socket
from polymarket_realtime.http.hub import Hub
from polymarket_realtime.server.app import PolymarketMCP, create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.integration._mcp_harness import settings_for

__all__ = ["HttpHarness", "serving"]


@dataclass
class HttpHarness:
    sim: Simulator
    server: PolymarketMCP
    room: ControlRoom
    settings: Settings
    port: int
    http: httpx2.AsyncClient

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.room.token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return await self.http.get(self.base + path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx2.Response:
        return await self.http.post(
            self.base + path, json=body, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs
        )

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await (self.get(path) if method == "GET" else self.post(path, body))
        assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def ws(self, path: str = "/ws", *, token: bool = True) -> Any:
        suffix = f"{'&' if '?' in path else '?'}token={self.token}" if token else ""
        return connect(f"ws://127.0.0.1:{self.port}{path}{suffix}", open_timeout=10, max_queue=None)

    def market(self, index: int = 0) -> Any:
        return self.sim.model.active_markets()[index]


async def recv(ws: ClientConnection, *, within_s: float = 10.0) -> dict[str, Any]:
    with anyio.fail_after(within_s):
        return dict(json.loads(await ws.recv()))


async def recv_until(ws: ClientConnection, predicate: Any, *, within_s: float = 10.0) -> list[dict[str, Any]]:
    """Messages up to and including the first one matching ``predicate``."""
    seen: list[dict[str, Any]] = []
    with anyio.fail_after(within_s):
        while True:
            message = dict(json.loads(await ws.recv()))
            seen.append(message)
            if predicate(message):
                return seen


async def send(ws: ClientConnection, message: Any) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))


@contextlib.asynccontextmanager
async def serving(
    data_dir: Path, *, sim_config: SimulatorConfig | None = None, hub: Hub | None = None, **settings_changes: Any
) -> AsyncIterator[HttpHarness]:
    config = sim_config or SimulatorConfig(seed=3, markets=4, rate_per_s=40.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        changes = {"book_warmup_s": 5.0, "order_book_wait_s": 3.0, **settings_changes}
        settings = settings_for(sim, data_dir, **changes)
        server = create_server(settings)
        room = ControlRoom(server, settings, HttpOptions(port=0), hub=hub)
        sock = bind_socket("127.0.0.1", 0)
        port = int(sock.getsockname()[1])
        async with anyio.create_task_group() as tg, httpx2.AsyncClient(timeout=30.0) as http:
            tg.start_soon(lambda: room.serve(sock, announce=False))
            with anyio.fail_after(30):
                await room.ready.wait()
            try:
                yield HttpHarness(sim=sim, server=server, room=room, settings=settings, port=port, http=http)
            finally:
                room.stop()
