"""Command-line bad input: a clear one-line error and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "polymarket_realtime", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_unusable_data_dir_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = _run("serve", env={"POLYMARKET_MCP_DATA_DIR": str(blocker / "data")})
    assert done.returncode == 2
    assert "configuration error: POLYMARKET_MCP_DATA_DIR: cannot create" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # stdout is the MCP pipe


def test_invalid_variable_names_itself(tmp_path: Path) -> None:
    done = _run("serve", env={"POLYMARKET_MCP_DATA_DIR": str(tmp_path), "POLYMARKET_PING_INTERVAL_S": "soon"})
    assert done.returncode == 2
    assert "POLYMARKET_PING_INTERVAL_S" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--ws-port", "99999"], ["--markets", "-3"], ["--rate", "-5"]])
def test_simulate_rejects_bad_numbers(args: list[str]) -> None:
    done = _run("simulate", *args)
    assert done.returncode == 2
    assert "error: argument" in done.stderr and "Traceback" not in done.stderr
