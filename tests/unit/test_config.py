from pathlib import Path

import pytest

from polymarket_realtime.config import Settings, load_dotenv_file
from polymarket_realtime.errors import ConfigError

KEY = "ab" * 32


def test_defaults_point_at_production() -> None:
    s = Settings.from_env({}, env_file=Path("/nonexistent"))
    assert s.market_ws_url == "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    assert s.user_ws_url == "wss://ws-subscriptions-clob.polymarket.com/ws/user"
    assert s.ping_interval_s == 10 and s.pong_timeout_s == 30
    assert s.reconnect_base_s == 1 and s.reconnect_max_s == 60 and s.market_idle_timeout_s == 60
    assert s.sports_ws_url == "wss://sports-api.polymarket.com/ws" and s.sports_silence_timeout_s == 20


def test_overrides_and_trailing_slash() -> None:
    s = Settings.from_env(
        {"POLYMARKET_CLOB_WS_URL": "ws://127.0.0.1:9/ws/", "POLYMARKET_RECONNECT_BASE_S": "0.05"},
        env_file=Path("/nonexistent"),
    )
    assert s.market_ws_url == "ws://127.0.0.1:9/ws/market"
    assert s.reconnect_base_s == 0.05


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POLYMARKET_PING_INTERVAL_S", "-1"),
        ("POLYMARKET_PING_INTERVAL_S", "abc"),
        ("POLYMARKET_CLOB_WS_URL", "http://x"),
        ("POLYMARKET_MCP_TOOLSETS", "nope"),
        ("POLYMARKET_CHAIN_ID", "1"),
        ("POLYMARKET_MAX_ASSETS_PER_CONNECTION", "900"),
        ("POLYMARKET_SPORTS_WS_URL", "https://sports-api.polymarket.com/ws"),
        ("POLYMARKET_SPORTS_SILENCE_TIMEOUT_S", "4"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value}, env_file=Path("/nonexistent"))
    assert info.value.variable == name


def test_private_key_is_never_echoed() -> None:
    bad = "zz" * 32
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"POLYGON_PRIVATE_KEY": bad}, env_file=Path("/nonexistent"))
    assert bad not in str(info.value)
    good = Settings.from_env({"POLYGON_PRIVATE_KEY": KEY}, env_file=Path("/nonexistent"))
    assert KEY not in repr(good)
    assert good.private_key is not None and good.private_key.reveal() == "0x" + KEY


def test_partial_api_credentials_rejected() -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"POLYMARKET_API_KEY": "k" * 10}, env_file=Path("/nonexistent"))


def test_dotenv_file_and_env_precedence(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport POLYMARKET_PING_INTERVAL_S="7"\nPOLYMARKET_PONG_TIMEOUT_S=40 # x\n')
    assert load_dotenv_file(env_file)["POLYMARKET_PONG_TIMEOUT_S"] == "40"
    s = Settings.from_env({"POLYMARKET_PONG_TIMEOUT_S": "50"}, env_file=env_file)
    assert s.ping_interval_s == 7 and s.pong_timeout_s == 50


def test_env_example_documents_every_variable_and_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    example = root / ".env.example"
    documented = set(load_dotenv_file(example))
    source = (root / "src/polymarket_realtime/config.py").read_text()
    import re

    read_by_code = set(re.findall(r'"((?:POLYMARKET|POLYGON)_[A-Z0-9_]+)"', source)) - {"POLYMARKET_MCP_ENV_FILE"}
    assert read_by_code - documented == set()
    assert documented - read_by_code == set()
    settings = Settings.from_env({}, env_file=example)
    assert settings == Settings.from_env({}, env_file=Path("/nonexistent"))


def test_redis_defaults_match_the_stream_keys() -> None:
    from polymarket_realtime.redisbus.keys import DEFAULT_PREFIX

    assert Settings().redis_prefix == DEFAULT_PREFIX
    s = Settings.from_env(
        {"POLYMARKET_MCP_REDIS_PREFIX": "team-a:", "POLYMARKET_MCP_REDIS_CONSUMER": "desk-1"},
        env_file=Path("/nonexistent"),
    )
    assert (s.redis_prefix, s.redis_consumer) == ("team-a:", "desk-1")
    with pytest.raises(ConfigError):
        Settings.from_env({"POLYMARKET_MCP_REDIS_PREFIX": "bad prefix"}, env_file=Path("/nonexistent"))
