"""``strategy`` agents: trade a paper session automatically from live books.

A new strategy is one small class: subclass :class:`Strategy`, set ``name`` and ``defaults``, and
implement :meth:`Strategy.decide`, which sees an :class:`Observation` (the live top of book and the
session's position) and returns an :class:`Intent` (a market order) or ``None``. Register it in
:data:`STRATEGIES`. The agent feeds observations, places the orders through the paper session (so
every risk limit and state rule applies) and logs each decision.

Mean reversion (``mean_reversion``), the built-in rule: keep the last ``window`` distinct mids; when the
mid is at least ``threshold`` below their mean, BUY ``order_size`` (while the position stays at or below
``max_position``); when it is at least ``threshold`` above the mean and something is held, SELL up to
``order_size``. After a trade, wait ``cooldown`` observations. Prices revert to the mean more often than
not in quiet markets; in trending ones this loses, which is why risk limits matter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Final

from ..errors import InvalidInputError, PolymarketRealtimeError
from ..model.events import Event
from .base import Agent, check_keys, config_decimal, config_int, config_str, config_token, top_of_book

__all__ = ["STRATEGIES", "Intent", "MeanReversion", "Observation", "Strategy", "StrategyAgent"]


@dataclass(frozen=True, slots=True)
class Observation:
    token_id: str
    mid: Decimal
    best_bid: Decimal
    best_ask: Decimal
    position: Decimal


@dataclass(frozen=True, slots=True)
class Intent:
    side: str
    size: Decimal
    reason: str


class Strategy(ABC):
    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]]

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = {**self.defaults, **params}

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        check_keys(raw, tuple(cls.defaults), where="params", noun=f"{cls.name} params")
        return {**cls.defaults, **raw}

    @abstractmethod
    def decide(self, obs: Observation) -> Intent | None: ...


class MeanReversion(Strategy):
    name = "mean_reversion"
    defaults: ClassVar[dict[str, Any]] = {
        "window": 20,
        "threshold": "0.02",
        "order_size": "10",
        "max_position": "100",
        "cooldown": 3,
    }

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().parse_params(raw)
        return {
            "window": config_int(merged, "window", default=20, low=2, high=1000),
            "threshold": str(config_decimal(merged, "threshold", low=Decimal(0), high=Decimal(1))),
            "order_size": str(config_decimal(merged, "order_size", low=Decimal(0))),
            "max_position": str(config_decimal(merged, "max_position", low=Decimal(0))),
            "cooldown": config_int(merged, "cooldown", default=3, low=0, high=10_000),
        }

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self._mids: deque[Decimal] = deque(maxlen=int(self.params["window"]))
        self._cooldown = 0

    def decide(self, obs: Observation) -> Intent | None:
        if self._mids and self._mids[-1] == obs.mid:
            return None
        self._mids.append(obs.mid)
        if self._cooldown > 0:
            self._cooldown -= 1
            return None
        if len(self._mids) < int(self.params["window"]):
            return None
        mean = sum(self._mids, Decimal(0)) / len(self._mids)
        threshold, size = Decimal(self.params["threshold"]), Decimal(self.params["order_size"])
        intent: Intent | None = None
        if obs.mid <= mean - threshold and obs.position + size <= Decimal(self.params["max_position"]):
            intent = Intent("BUY", size, f"mid {obs.mid} is {mean - obs.mid:.4f} below mean {mean:.4f}")
        elif obs.mid >= mean + threshold and obs.position > 0:
            intent = Intent(
                "SELL", min(size, obs.position), f"mid {obs.mid} is {obs.mid - mean:.4f} above mean {mean:.4f}"
            )
        if intent is not None:
            self._cooldown = int(self.params["cooldown"])
        return intent


STRATEGIES: Final[dict[str, type[Strategy]]] = {MeanReversion.name: MeanReversion}


class StrategyAgent(Agent):
    kind = "strategy"
    description = "Trades a paper session automatically with a named strategy (mean_reversion built in)."
    event_types = ("book", "price_change", "best_bid_ask")
    needs_session = True

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        check_keys(raw, ("strategy", "token_id", "params"))
        name = config_str(raw, "strategy", choices=tuple(STRATEGIES), default="mean_reversion")
        params = raw.get("params", {})
        if not isinstance(params, Mapping):
            raise InvalidInputError("config.params must be an object of strategy parameters.")
        return {"strategy": name, "token_id": config_token(raw), "params": STRATEGIES[name].parse_params(params)}

    def token_ids(self) -> list[str]:
        return [self.config["token_id"]]

    async def on_start(self) -> None:
        self.strategy = STRATEGIES[self.config["strategy"]](self.config["params"])
        await self.ctx.log(
            "info", f"{self.config['strategy']} on {self.config['token_id']} params {self.config['params']}"
        )

    async def on_event(self, event: Event) -> None:
        token = self.config["token_id"]
        if getattr(event, "asset_id", None) != token:
            return
        bid, ask = top_of_book(event, self.ctx.books)
        if bid is None or ask is None:
            return
        mid = (bid + ask) / 2
        intent = self.strategy.decide(Observation(token, mid, bid, ask, self.ctx.position(token)))
        if intent is None:
            return
        self.memory["signals"] = int(self.memory.get("signals", 0)) + 1
        self.dirty = True
        try:
            result = await self.ctx.place_order(token, intent.side, intent.size)
        except PolymarketRealtimeError as exc:
            # Expected refusals (paused/halted session, risk limit, stale book) are logged, not fatal.
            self.memory["rejected"] = int(self.memory.get("rejected", 0)) + 1
            await self.ctx.log("warning", f"{intent.side} {intent.size} refused: {exc} ({intent.reason})")
            return
        self.memory["orders"] = int(self.memory.get("orders", 0)) + 1
        await self.ctx.log(
            "info",
            f"{intent.side} {intent.size} -> {result.order.status} {result.order.filled} @ "
            f"{result.order.average_fill_price} ({intent.reason})",
        )

    def stats(self) -> dict[str, Any]:
        return {
            "strategy": self.config["strategy"],
            "token_id": self.config["token_id"],
            "signals": int(self.memory.get("signals", 0)),
            "orders": int(self.memory.get("orders", 0)),
            "rejected": int(self.memory.get("rejected", 0)),
            "position": str(self.ctx.position(self.config["token_id"])),
        }
