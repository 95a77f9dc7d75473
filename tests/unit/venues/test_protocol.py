"""Frame builders produce exactly the documented JSON; id validators."""

from __future__ import annotations

import json

import pytest

from polymarket_realtime.venues.polymarket.protocol import (
    PING,
    RTDS_PING,
    is_condition_id,
    is_token_id,
    market_initial_frame,
    market_subscribe_frame,
    market_unsubscribe_frame,
    rtds_subscribe_frame,
    rtds_unsubscribe_frame,
    user_initial_frame,
    user_subscribe_frame,
    user_unsubscribe_frame,
)

TOKEN = "65818619657568813474341868652308942079804919287380422192892211131408793125422"
CONDITION = "0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af"


def test_market_initial_frame_exact_text() -> None:
    assert market_initial_frame([TOKEN, "2"]) == (
        f'{{"type":"market","assets_ids":["{TOKEN}","2"],"initial_dump":true,"custom_feature_enabled":true}}'
    )
    frame = json.loads(market_initial_frame(iter(["1"]), custom_features=False, initial_dump=False))
    assert frame == {"type": "market", "assets_ids": ["1"], "initial_dump": False, "custom_feature_enabled": False}
    assert "level" not in frame


def test_market_dynamic_frames_exact_text() -> None:
    assert market_subscribe_frame(["1", "2"]) == (
        '{"operation":"subscribe","assets_ids":["1","2"],"custom_feature_enabled":true}'
    )
    assert market_subscribe_frame(("1",), custom_features=False) == (
        '{"operation":"subscribe","assets_ids":["1"],"custom_feature_enabled":false}'
    )
    assert market_unsubscribe_frame(["1"]) == '{"operation":"unsubscribe","assets_ids":["1"]}'


def test_user_frames_exact_text() -> None:
    assert user_initial_frame("key-1", "c2VjcmV0", "pass", [CONDITION]) == (
        '{"type":"user","auth":{"apiKey":"key-1","secret":"c2VjcmV0","passphrase":"pass"},'
        f'"markets":["{CONDITION}"]}}'
    )
    assert json.loads(user_initial_frame("k", "s", "p", []))["markets"] == []
    assert user_subscribe_frame([CONDITION]) == f'{{"operation":"subscribe","markets":["{CONDITION}"]}}'
    assert user_unsubscribe_frame([CONDITION]) == f'{{"operation":"unsubscribe","markets":["{CONDITION}"]}}'


def test_rtds_frames_exact_text() -> None:
    assert rtds_subscribe_frame([("crypto_prices", "update"), ("comments", "*", '{"parentEntityID":1}')]) == (
        '{"action":"subscribe","subscriptions":[{"topic":"crypto_prices","type":"update"},'
        '{"topic":"comments","type":"*","filters":"{\\"parentEntityID\\":1}"}]}'
    )
    assert rtds_unsubscribe_frame([("crypto_prices_chainlink", "*", "")]) == (
        '{"action":"unsubscribe","subscriptions":[{"topic":"crypto_prices_chainlink","type":"*"}]}'
    )


def test_ping_constants() -> None:
    assert PING == "PING" and RTDS_PING == "PING"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (TOKEN, True),
        ("1", True),
        ("9" * 100, True),
        ("9" * 101, False),
        ("", False),
        ("-1", False),
        ("+1", False),
        ("1.0", False),
        (" 1", False),
        ("1\n", False),
        ("0x12", False),
        ("١٢", False),
    ],
)
def test_is_token_id(value: str, ok: bool) -> None:
    assert is_token_id(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (CONDITION, True),
        (CONDITION.upper().replace("0X", "0x"), True),
        (CONDITION[:-1], False),
        (CONDITION + "0", False),
        (CONDITION[2:], False),
        ("0x" + "g" * 64, False),
        (CONDITION + "\n", False),
    ],
)
def test_is_condition_id(value: str, ok: bool) -> None:
    assert is_condition_id(value) is ok
