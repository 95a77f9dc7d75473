"""POLYMARKET_MCP_TOOLSETS: the default set, "default" as a name, and "all"."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymarket_realtime.config import DEFAULT_TOOLSETS, TOOLSETS, Settings
from polymarket_realtime.errors import ConfigError

NO_FILE = Path("/nonexistent")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, set(DEFAULT_TOOLSETS)),
        ("", set(DEFAULT_TOOLSETS)),
        ("default", set(DEFAULT_TOOLSETS)),
        ("default,agents", {*DEFAULT_TOOLSETS, "agents"}),
        ("market, Realtime", {"market", "realtime"}),
        ("all", set(TOOLSETS)),
        ("market,all", set(TOOLSETS)),
    ],
)
def test_toolsets_setting(raw: str | None, expected: set[str]) -> None:
    env = {} if raw is None else {"POLYMARKET_MCP_TOOLSETS": raw}
    assert Settings.from_env(env, env_file=NO_FILE).toolsets == frozenset(expected)


def test_default_set_is_what_a_first_time_user_needs() -> None:
    assert DEFAULT_TOOLSETS == ("market", "realtime", "paper", "system")
    assert Settings().toolsets == frozenset(DEFAULT_TOOLSETS)


def test_unknown_toolset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown toolsets \['agent'\]"):
        Settings.from_env({"POLYMARKET_MCP_TOOLSETS": "default,agent"}, env_file=NO_FILE)
