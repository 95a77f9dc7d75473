"""Smoke test with the real MCP Inspector CLI (0.15.0, installed by `make inspector`) against
``serve --simulate``. Inspector 0.15 exits 0 even when a tool fails, so the JSON is checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.simulator import SimulatorConfig
from polymarket_realtime.simulator.market_model import MarketModel

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = [
    pytest.mark.inspector,
    pytest.mark.skipif(not INSPECTOR.exists(), reason="MCP Inspector not installed (run `make inspector`)"),
]


def _inspect(tmp_path: Path, *method_args: str) -> Any:
    command = [
        str(INSPECTOR),
        "--cli",
        "-e",
        f"POLYMARKET_MCP_DATA_DIR={tmp_path / 'data'}",
        *method_args,
        "--",
        sys.executable,
        "-m",
        "polymarket_realtime",
        "serve",
        "--simulate",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON on stdout: {done.stdout[-1000:]!r} / {done.stderr[-1000:]!r}"
    return json.loads(done.stdout[start:])


def _first_question() -> str:
    config = SimulatorConfig()  # what `serve --simulate` runs (seed 1)
    model = MarketModel(seed=config.seed, markets=config.markets, book_depth=config.book_depth, now_ms=lambda: 0)
    return model.markets[0].question


def test_inspector_lists_tools(tmp_path: Path) -> None:
    result = _inspect(tmp_path, "--method", "tools/list")
    names = {tool["name"] for tool in result["tools"]}
    assert {"get_realtime_status", "search_markets", "get_events", "subscribe_market_prices"} <= names
    status_tool = next(t for t in result["tools"] if t["name"] == "get_realtime_status")
    assert status_tool["annotations"]["readOnlyHint"] is True
    assert "outputSchema" in status_tool


def test_inspector_calls_status_and_search(tmp_path: Path) -> None:
    status = _inspect(tmp_path, "--method", "tools/call", "--tool-name", "get_realtime_status")
    assert status.get("isError") is False, status
    assert set(status["structuredContent"]["connections"]) >= {"market", "user", "rtds"}

    question = _first_question()
    query = " ".join(question.split()[:4])
    # --tool-arg is variadic: it must be followed by another option, not by the "--" separator.
    found = _inspect(
        tmp_path,
        "--tool-arg",
        f"query={query}",
        "limit=5",
        "--method",
        "tools/call",
        "--tool-name",
        "search_markets",
    )
    assert found.get("isError") is False, found
    assert question in {m["question"] for m in found["structuredContent"]["markets"]}
