"""The real MCP Inspector CLI (0.15.0, ``make inspector``) against ``/mcp`` over HTTP. Its HTTP transport
cannot set headers, so the token travels as ``?token=`` (accepted on ``/mcp`` for such clients)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.integration._http_harness import HttpHarness, serving

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.inspector,
    pytest.mark.skipif(not INSPECTOR.exists(), reason="MCP Inspector not installed (run `make inspector`)"),
]


async def _inspect(h: HttpHarness, *method_args: str, token: str | None = None) -> tuple[int, Any, str]:
    url = f"{h.base}/mcp?token={h.token if token is None else token}"
    with anyio.fail_after(90):
        done = await anyio.run_process([str(INSPECTOR), "--cli", url, "--transport", "http", *method_args], check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    start = out.find("{")
    return done.returncode, json.loads(out[start:]) if start >= 0 else None, err + out


async def test_inspector_over_http(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        code, listed, output = await _inspect(h, "--method", "tools/list")
        assert code == 0 and listed is not None, output[-2000:]
        names = {tool["name"] for tool in listed["tools"]}
        assert {"get_realtime_status", "search_markets", "create_paper_session", "get_system_status"} <= names
        code, status, output = await _inspect(h, "--method", "tools/call", "--tool-name", "get_system_status")
        assert code == 0 and status is not None and status.get("isError") is False, output[-2000:]
        assert status["structuredContent"]["switch"] == "running"
        code, refused, output = await _inspect(h, "--method", "tools/list", token="wrong-token-" + "x" * 32)
        assert refused is None or "tools" not in refused
        assert "401" in output or code != 0
