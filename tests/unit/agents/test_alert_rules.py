"""The price_alert decision core without an event loop: move alerts (absolute/relative, repeat) and config errors."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from polymarket_realtime.agents.alert_rules import AlertRule
from polymarket_realtime.agents.price_alert import PriceAlertAgent
from polymarket_realtime.errors import InvalidInputError


def _rule(start: str | None, **config: Any) -> AlertRule:
    parsed = PriceAlertAgent.parse_config({"token_id": "11", **config})
    rule = AlertRule(parsed, {})
    rule.start(None if start is None else D(start))
    return rule


def _fired(rule: AlertRule, *prices: str) -> list[str]:
    return [str(f.price) for p in prices if (f := rule.observe(D(p))) is not None]


def test_move_fires_on_a_two_cent_move_not_on_one_cent() -> None:
    rule = _rule("0.50", move="0.02")
    assert rule.config["condition"] == "move" and rule.config["move_mode"] == "absolute"
    assert _fired(rule, "0.51", "0.505", "0.49", "0.515") == []  # at most 1.5 cents from 0.50
    firing = rule.observe(D("0.52"))
    assert firing is not None and firing.price == D("0.52")
    assert "moved up 0.02 (threshold 0.02) from 0.50" in firing.message
    assert rule.stats()["fired"] == 1 and rule.stats()["reference"] == "0.50"


def test_move_down_and_direction() -> None:
    assert _fired(_rule("0.50", move=0.02), "0.49", "0.48") == ["0.48"]
    up_only = _rule("0.50", move=0.02, direction="up")
    assert _fired(up_only, "0.47", "0.45", "0.51", "0.52") == ["0.52"]
    down_only = _rule("0.50", move=0.02, direction="down")
    assert _fired(down_only, "0.53", "0.49", "0.48") == ["0.48"]


def test_repeating_move_measures_from_the_last_firing() -> None:
    rule = _rule("0.50", condition="move", move="0.02", repeat=True)
    # 0.52 fires (ref -> 0.52); 0.53 and 0.51 are within 2 cents of 0.52; 0.50 fires (ref -> 0.50); 0.52 fires.
    assert _fired(rule, "0.52", "0.53", "0.51", "0.50", "0.51", "0.52") == ["0.52", "0.50", "0.52"]
    assert rule.memory["reference"] == "0.52" and rule.memory["fired"] == 3


def test_relative_move() -> None:
    rule = _rule("0.40", move="0.1", move_mode="relative")  # 10 % of 0.40 = 0.04
    assert _fired(rule, "0.43", "0.37") == []
    firing = rule.observe(D("0.44"))
    assert firing is not None and "10.00 %" in firing.message


def test_no_start_price_the_first_observation_is_the_reference() -> None:
    rule = _rule(None, move="0.02")
    assert _fired(rule, "0.30", "0.31", "0.32") == ["0.32"]
    assert rule.memory["reference"] == "0.30"


def test_restart_keeps_the_reference() -> None:
    rule = _rule("0.50", move="0.02")
    _fired(rule, "0.51")
    restored = AlertRule(rule.config, dict(rule.memory))
    restored.start(D("0.51"))  # the book at restart does not replace the stored reference
    assert _fired(restored, "0.52") == ["0.52"]


def test_level_conditions_unchanged() -> None:
    assert _fired(_rule(None, condition="above", price="0.55"), "0.53", "0.57", "0.58") == ["0.57"]
    assert _fired(_rule(None, condition="cross", price="0.5", repeat=True), "0.49", "0.51", "0.52", "0.48") == [
        "0.51",
        "0.48",
    ]


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"condition": "move"}, r"config\.move is required"),
        ({"move": 0}, r"config\.move must be > 0"),
        ({"move": -0.02}, r"config\.move must be > 0"),
        ({"move": "two cents"}, r"config\.move must be a number"),
        ({"move": 2}, r"too large for an absolute move.*0\.02"),
        ({"move": 0.02, "move_mode": "percent"}, r"config\.move_mode must be one of absolute, relative"),
        ({"move": 50, "move_mode": "relative"}, r"give a fraction \(0\.1 = 10 %\)"),
        ({"move": 0.02, "direction": "sideways"}, r"config\.direction must be one of either, up, down"),
        ({"move": 0.02, "price": 0.5}, r"config\.price does not apply to condition 'move'"),
        ({"condition": "above", "price": 0.5, "move": 0.02}, r"config\.move only applies to condition 'move'"),
        ({"condition": "above"}, r"config\.price is required"),
        ({}, r"config\.condition is required"),
    ],
)
def test_bad_move_config_is_named(config: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        PriceAlertAgent.parse_config({"token_id": "11", **config})
