"""The sans-I/O decision core of ``price_alert``: given the previous and current price, fire or not.

:class:`AlertRule` holds no I/O and no clock; it reads and updates a plain ``memory`` dict (the agent's
persisted memory), so the same rule decides identically in a unit test, in a running agent and after a
restart. Prices are ``Decimal``.

Level conditions (``above``/``below``/``cross``) compare with a fixed ``price``. The ``move`` condition
compares with a *reference*: the price when the alert started (or its first observation when no price
was known then) and, for a repeating alert, the price at its last firing. It fires when the price has
moved by at least ``move`` from the reference, in absolute price units (``0.02`` = 2 cents) or, with
``move_mode`` ``relative``, as a fraction of the reference (``0.1`` = 10 %), in ``direction`` ``up``,
``down`` or ``either``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import InvalidInputError
from .base import config_decimal, config_str

__all__ = ["CONDITIONS", "DIRECTIONS", "MOVE_MODES", "AlertRule", "Firing", "parse_rule_config"]

CONDITIONS = ("above", "below", "cross", "move")
MOVE_MODES = ("absolute", "relative")
DIRECTIONS = ("either", "up", "down")
_MAX_RELATIVE = Decimal(10)
"""A relative move above 1000 % of a price in (0, 1) is almost surely a unit mistake."""


def parse_rule_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the condition keys of a ``price_alert`` config (normalized, JSON-ready strings).

    ``condition`` defaults to ``move`` when only ``move`` is given. Level conditions need ``price`` and
    refuse ``move``; ``move`` needs ``move`` > 0 and refuses ``price`` (it measures from the start price).
    """
    condition = config_str(raw, "condition", choices=CONDITIONS, default="move" if "move" in raw else None)
    if condition != "move":
        for key in ("move", "move_mode", "direction"):
            if key in raw:
                raise InvalidInputError(
                    f"config.{key} only applies to condition 'move' (a move from the start price); "
                    f"condition {condition!r} compares with config.price."
                )
        return {"condition": condition, "price": str(config_decimal(raw, "price", low=Decimal(0), high=Decimal(1)))}
    if "price" in raw:
        raise InvalidInputError(
            "config.price does not apply to condition 'move': a move alert measures from the price when it starts "
            "(and from its last firing when it repeats). Drop price, or use condition above/below/cross for a level."
        )
    mode = config_str(raw, "move_mode", choices=MOVE_MODES, default="absolute")
    if mode == "absolute":
        amount = config_decimal(raw, "move", low=Decimal(0))
        if amount >= 1:
            raise InvalidInputError(
                f"config.move {amount} is too large for an absolute move: prices are in (0, 1), so 2 cents is 0.02. "
                "For a percentage use move_mode 'relative' with a fraction (0.1 = 10 %)."
            )
    else:
        amount = config_decimal(raw, "move", low=Decimal(0))
        if amount > _MAX_RELATIVE:
            raise InvalidInputError(
                f"config.move {amount} is a relative move of {amount * 100} %: give a fraction (0.1 = 10 %), "
                f"at most {_MAX_RELATIVE}."
            )
    return {
        "condition": "move",
        "move": str(amount),
        "move_mode": mode,
        "direction": config_str(raw, "direction", choices=DIRECTIONS, default="either"),
    }


@dataclass(frozen=True, slots=True)
class Firing:
    price: Decimal
    message: str


class AlertRule:
    """One alert's decision state machine over a ``memory`` dict (keys ``last_price``, ``reference``, ``fired``).

    ``config`` is the output of :func:`parse_rule_config` plus ``token_id``, ``source`` and ``repeat``.
    """

    def __init__(self, config: Mapping[str, Any], memory: dict[str, Any]) -> None:
        self.config = config
        self.memory = memory

    @property
    def is_move(self) -> bool:
        return bool(self.config["condition"] == "move")

    def start(self, price: Decimal | None) -> None:
        """The alert starts (or is restored) while ``price`` is current; a kept reference survives a restart."""
        if self.is_move and self.memory.get("reference") is None and price is not None:
            self.memory["reference"] = str(price)

    def observe(self, price: Decimal) -> Firing | None:
        """Record ``price``; return a :class:`Firing` when the alert fires on it (the caller alerts)."""
        prev_raw = self.memory.get("last_price")
        prev = Decimal(prev_raw) if prev_raw is not None else None
        if prev == price:
            return None
        self.memory["last_price"] = str(price)
        self.memory["observations"] = int(self.memory.get("observations", 0)) + 1
        message = self._move(price) if self.is_move else self._level(prev, price)
        if message is None:
            return None
        self.memory["fired"] = int(self.memory.get("fired", 0)) + 1
        self.memory["last_fired_price"] = str(price)
        return Firing(price, f"price alert: token {self.config['token_id']} {self.config['source']} {message}")

    def _level(self, prev: Decimal | None, price: Decimal) -> str | None:
        level, condition = Decimal(self.config["price"]), self.config["condition"]
        if condition == "above":
            fire = price >= level and (prev is None or prev < level)
        elif condition == "below":
            fire = price <= level and (prev is None or prev > level)
        else:
            fire = prev is not None and (prev - level) * (price - level) <= 0 and prev != level
        if not fire:
            return None
        return f"{price} {'crossed' if condition == 'cross' else 'is ' + condition} {level}" + (
            f" (was {prev})" if prev is not None else ""
        )

    def _move(self, price: Decimal) -> str | None:
        ref_raw = self.memory.get("reference")
        if ref_raw is None:  # no price known at start: the first observation is the reference
            self.memory["reference"] = str(price)
            return None
        reference = Decimal(ref_raw)
        delta = price - reference
        direction = self.config["direction"]
        if (direction == "up" and delta <= 0) or (direction == "down" and delta >= 0):
            return None
        amount = Decimal(self.config["move"])
        if self.config["move_mode"] == "relative":
            if reference <= 0:
                return None
            moved = abs(delta) / reference >= amount
            size = f"{abs(delta) / reference * 100:.2f} % (threshold {amount * 100:g} %)"
        else:
            moved = abs(delta) >= amount
            size = f"{abs(delta)} (threshold {amount})"
        if not moved:
            return None
        if self.config.get("repeat"):
            self.memory["reference"] = str(price)  # a repeating alert measures the next move from here
        return f"{price} moved {'up' if delta > 0 else 'down'} {size} from {reference}"

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "token_id": self.config["token_id"],
            "condition": self.config["condition"],
            "last_price": self.memory.get("last_price"),
            "observations": int(self.memory.get("observations", 0)),
            "fired": int(self.memory.get("fired", 0)),
            "last_fired_price": self.memory.get("last_fired_price"),
        }
        if self.is_move:
            out.update(
                move=self.config["move"],
                move_mode=self.config["move_mode"],
                direction=self.config["direction"],
                reference=self.memory.get("reference"),
            )
        else:
            out["level"] = self.config["price"]
        return out
