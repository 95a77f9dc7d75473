"""MCP over HTTP (``/mcp``) with the SDK's Streamable HTTP client and the bearer token: the same tool flow
as over stdio; the real ``serve --http`` process (login link on stderr, never in the log file); and the
dashboard beside stdio (``POLYMARKET_MCP_DASHBOARD``) sharing one set of services."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

import polymarket_realtime
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.integration._core_flow import call, every_core_tool
from tests.integration._http_harness import recv_until, send, serving

pytestmark = pytest.mark.anyio

SRC = str(Path(polymarket_realtime.__file__).resolve().parents[1])
"""The code under test, first on the child's path (the venv may hold another checkout)."""
LINK = re.compile(r"dashboard: (http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+))")


def _client(url: str, token: str, mode: str) -> tuple[httpx2.AsyncClient, Client]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return http, Client(streamable_http_client(url, http_client=http), mode=mode, read_timeout_seconds=30)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_core_tool_over_http(tmp_path: Path, mode: str) -> None:
    async with serving(tmp_path) as h:
        http, client = _client(h.base + "/mcp", h.token, mode)
        with anyio.fail_after(60):
            async with http, client:
                await every_core_tool(client)


async def test_a_session_created_over_mcp_is_live_on_the_api_and_ws(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        http, client = _client(h.base + "/mcp", h.token, "legacy")
        with anyio.fail_after(60):
            async with http, client, h.ws() as ws:
                await send(ws, {"type": "subscribe", "channels": ["sessions"]})
                created = await call(client, "create_paper_session", {"name": "via-mcp", "token_ids": [token]})
                sid = created["session_id"]
                await recv_until(ws, lambda m: m["type"] == "event" and m["data"]["session_id"] == sid)
                assert (await h.ok("POST", f"/api/sessions/{sid}/pause"))["state"] == "paused"
                again = await call(client, "get_paper_session", {"session_id": sid})
                assert again["state"] == "paused"


async def _drain_stderr(stream: Any, lines: list[str], found: anyio.Event) -> None:
    buffer = ""
    async for chunk in stream:
        buffer += chunk.decode("utf-8", "replace")
        *complete, buffer = buffer.split("\n")
        for line in complete:
            lines.append(line)
            if LINK.search(line):
                found.set()


async def test_serve_http_process_prints_the_link_and_never_logs_the_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"POLYMARKET_MCP_DATA_DIR": str(data), "POLYMARKET_MCP_LOG_LEVEL": "DEBUG", "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "polymarket_realtime", "serve", "--http", "--simulate", "--port", "0"]
    lines: list[str] = []
    found = anyio.Event()
    async with await anyio.open_process(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL) as proc:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain_stderr, proc.stderr, lines, found)
                with anyio.fail_after(60):
                    await found.wait()
                match = next(m for m in map(LINK.search, lines) if m)
                link, port, token = match.group(1), int(match.group(2)), match.group(3)
                base = f"http://127.0.0.1:{port}"
                async with httpx2.AsyncClient(timeout=30) as plain:
                    assert (await plain.get(base + "/api/system")).status_code == 401
                    login = await plain.get(link)
                    assert login.status_code == 303
                    assert (await plain.get(base + "/api/system")).status_code == 200  # the cookie now
                    headers = {"Authorization": f"Bearer {token}"}
                    bad = await plain.post(base + "/api/sessions", json={"name": "x"}, headers=headers)
                    assert bad.status_code == 400
                http, client = _client(base + "/mcp", token, "legacy")
                with anyio.fail_after(60):
                    async with http, client:
                        status = await call(client, "get_system_status")
                        assert status["switch"] == "running"
                proc.terminate()
                await proc.wait()
                tg.cancel_scope.cancel()
        finally:
            if proc.returncode is None:
                proc.kill()
    log_text = (data / "logs" / "server.log").read_text(encoding="utf-8")
    assert "serving MCP over HTTP" in log_text and "uvicorn" in log_text
    assert token not in log_text
    assert stat_mode(data / "http-token") == 0o600
    assert sum(token in line for line in lines) == 1  # the link itself, printed once on stderr


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_dashboard_beside_stdio_shares_the_services(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=5, markets=3, rate_per_s=30.0, resolve_after_s=None)
    errlog = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    async with Simulator(config) as sim:
        env = {
            **sim.env(),
            "POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"),
            "POLYMARKET_MCP_DASHBOARD": "127.0.0.1:0",
            "POLYMARKET_BOOK_WARMUP_S": "5",
            "PYTHONPATH": SRC,
        }
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "polymarket_realtime", "serve"], env=env, cwd=str(tmp_path)
        )
        client = Client(stdio_client(params, errlog=errlog), mode="legacy", read_timeout_seconds=30)  # type: ignore[arg-type]
        with anyio.fail_after(90):
            async with client:
                # The HTTP side is up before stdio answers its first request, so the link is already out.
                await client.list_tools()
                errlog.seek(0)
                match = LINK.search(errlog.read())
                assert match is not None
                base, token = f"http://127.0.0.1:{match.group(2)}", match.group(3)
                headers = {"Authorization": f"Bearer {token}"}
                tok = sim.model.active_markets()[0].token_ids[0]
                created = await call(client, "create_paper_session", {"name": "desktop", "token_ids": [tok]})
                sid = created["session_id"]
                async with httpx2.AsyncClient(timeout=30, headers=headers) as http:
                    listed = (await http.get(base + "/api/sessions")).json()
                    assert [s["session_id"] for s in listed["sessions"]] == [sid]
                    paused = await http.post(base + f"/api/sessions/{sid}/pause")
                    assert paused.status_code == 200
                assert (await call(client, "get_paper_session", {"session_id": sid}))["state"] == "paused"
    errlog.close()
