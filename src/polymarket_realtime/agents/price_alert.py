"""``price_alert``: watch one token's price and fire when it goes above, below, or crosses a level.

Config: ``token_id``; ``condition`` ``above`` | ``below`` | ``cross``; ``price`` in (0, 1); ``repeat``
(default false: one-shot, the agent stops after firing); ``source`` ``mid`` (default) or
``last_trade``. ``above``/``below`` are edge-triggered (they fire when the condition becomes true,
including on the first observation), so a repeating alert does not fire on every tick while the
price stays on the far side; ``cross`` fires whenever consecutive observations straddle the level.
Each firing goes to the alert log, the agent log, the activity feed and (through the activity
resource) MCP notifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..model.events import Event, LastTrade
from .base import Agent, config_bool, config_decimal, config_str, config_token, mid_of

__all__ = ["PriceAlertAgent"]


class PriceAlertAgent(Agent):
    kind = "price_alert"
    description = "Fires when a token's mid (or last trade) goes above/below/crosses a price; one-shot or repeating."

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "token_id": config_token(raw),
            "condition": config_str(raw, "condition", choices=("above", "below", "cross")),
            "price": str(config_decimal(raw, "price", low=Decimal(0), high=Decimal(1))),
            "repeat": config_bool(raw, "repeat", default=False),
            "source": config_str(raw, "source", choices=("mid", "last_trade"), default="mid"),
        }

    def token_ids(self) -> list[str]:
        return [self.config["token_id"]]

    @property
    def level(self) -> Decimal:
        return Decimal(self.config["price"])

    def _observe(self, event: Event) -> Decimal | None:
        token = self.config["token_id"]
        if getattr(event, "asset_id", None) != token:
            return None
        if self.config["source"] == "last_trade":
            return event.price if isinstance(event, LastTrade) else None
        return mid_of(event, self.ctx.books)

    async def on_event(self, event: Event) -> None:
        price = self._observe(event)
        if price is None:
            return
        prev_raw = self.memory.get("last_price")
        prev = Decimal(prev_raw) if prev_raw is not None else None
        if prev == price:
            return
        self.memory["last_price"] = str(price)
        self.memory["observations"] = int(self.memory.get("observations", 0)) + 1
        self.dirty = True
        level, condition = self.level, self.config["condition"]
        if condition == "above":
            fire = price >= level and (prev is None or prev < level)
        elif condition == "below":
            fire = price <= level and (prev is None or prev > level)
        else:
            fire = prev is not None and (prev - level) * (price - level) <= 0 and prev != level
        if not fire:
            return
        self.memory["fired"] = int(self.memory.get("fired", 0)) + 1
        self.memory["last_fired_price"] = str(price)
        message = (
            f"price alert: token {self.config['token_id']} {self.config['source']} {price} "
            f"{'crossed' if condition == 'cross' else 'is ' + condition} {level}"
            + (f" (was {prev})" if prev is not None else "")
        )
        await self.ctx.alert(self.config["token_id"], price, message)
        if not self.config["repeat"]:
            self.finished = "one-shot alert fired"

    def stats(self) -> dict[str, Any]:
        return {
            "token_id": self.config["token_id"],
            "condition": self.config["condition"],
            "level": self.config["price"],
            "last_price": self.memory.get("last_price"),
            "fired": int(self.memory.get("fired", 0)),
            "last_fired_price": self.memory.get("last_fired_price"),
        }
