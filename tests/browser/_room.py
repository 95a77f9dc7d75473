"""A real control room for the browser tests: simulator + our server + uvicorn on a loopback port, and a
headless Debian Chromium driven by Playwright (never ``playwright install``: the browser comes from apt).

``control_room(...)`` can be left and entered again on the same port and data directory: that is a
server restart, as the page sees it (same token, same SQLite state, every channel's seq starting over).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from polymarket_realtime.http.host import ControlRoom, HttpOptions, bind_socket
from polymarket_realtime.server.app import create_server
from polymarket_realtime.simulator import Simulator
from tests.integration._mcp_harness import settings_for

__all__ = [
    "CHROMIUM_ARGS",
    "OUTPUT_DIR",
    "Room",
    "call",
    "chromium_path",
    "control_room",
    "mcp_client",
]

# Quiet, offline, deterministic Chromium: no sandbox (containers), no GPU, no QUIC, no background fetches.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Screenshots land here (gitignored); PMRT_TEST_OUTPUT moves them.
OUTPUT_DIR = Path(os.environ.get("PMRT_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")) / "browser"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Room:
    room: ControlRoom
    port: int
    http: httpx2.AsyncClient

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.room.token

    @property
    def login_link(self) -> str:
        return f"{self.base}/?token={self.token}"

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        if method == "GET":
            response = await self.http.get(self.base + path, headers=headers)
        else:
            response = await self.http.post(self.base + path, json=body, headers=headers)
        assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@contextlib.asynccontextmanager
async def control_room(sim: Simulator, data_dir: Path, port: int = 0) -> AsyncIterator[Room]:
    settings = settings_for(sim, data_dir, book_warmup_s=5.0, order_book_wait_s=3.0)
    server = create_server(settings)
    room = ControlRoom(server, settings, HttpOptions(port=port))
    sock = bind_socket("127.0.0.1", port)
    bound = int(sock.getsockname()[1])
    async with anyio.create_task_group() as tg, httpx2.AsyncClient(timeout=30.0) as http:
        tg.start_soon(lambda: room.serve(sock, announce=False))
        with anyio.fail_after(30):
            await room.ready.wait()
        try:
            yield Room(room=room, port=bound, http=http)
        finally:
            room.stop()


def mcp_client(room: Room) -> tuple[httpx2.AsyncClient, Client]:
    """The SDK's Streamable HTTP client at /mcp with the bearer token (enter both, http first)."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {room.token}"})
    transport = streamable_http_client(room.base + "/mcp", http_client=http)
    return http, Client(transport, mode="legacy", read_timeout_seconds=30)  # type: ignore[arg-type]


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, f"{name} failed: {text}"
    assert result.structured_content is not None
    return dict(result.structured_content)
