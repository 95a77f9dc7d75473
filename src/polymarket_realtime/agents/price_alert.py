"""``price_alert``: watch one token's price and fire at a level (above/below/cross) or on a move.

Config: ``token_id``; ``condition`` ``above`` | ``below`` | ``cross`` with ``price`` in (0, 1), or
``move`` with ``move`` > 0 (``move_mode`` ``absolute`` (default, price units: 0.02 = 2 cents) or
``relative`` (a fraction of the reference: 0.1 = 10 %), ``direction`` ``either`` (default) | ``up`` |
``down``); ``repeat`` (default false: one-shot, the agent stops after firing); ``source`` ``mid``
(default) or ``last_trade``. Every condition watches the same price: the ``source``.

``above``/``below`` are edge-triggered (they fire when the condition becomes true, including on the
first observation), so a repeating alert does not fire on every tick while the price stays on the far
side; ``cross`` fires whenever consecutive observations straddle the level. ``move`` measures from the
price when the alert started (the live book's mid or last trade when its task starts or, failing that,
after ``start_agent``'s warm-up; else its first observation) and,
when it repeats, from the price at its last firing. The decisions live in :mod:`.alert_rules` (no I/O).
Each firing goes to the alert log, the agent log, the activity feed and (through the activity
resource) MCP notifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..model.events import Event, LastTrade
from .alert_rules import AlertRule, parse_rule_config
from .base import Agent, AgentContext, check_keys, config_bool, config_str, config_token, mid_of

__all__ = ["PriceAlertAgent"]


class PriceAlertAgent(Agent):
    kind = "price_alert"
    description = (
        "Fires when a token's mid (or last trade) goes above/below/crosses a price, or moves by an amount "
        "from where it started; one-shot or repeating."
    )

    config_keys = ("token_id", "condition", "price", "move", "move_mode", "direction", "repeat", "source")

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        check_keys(raw, cls.config_keys)
        return {
            "token_id": config_token(raw),
            **parse_rule_config(raw),
            "repeat": config_bool(raw, "repeat", default=False),
            "source": config_str(raw, "source", choices=("mid", "last_trade"), default="mid"),
        }

    def __init__(self, config: Mapping[str, Any], ctx: AgentContext, memory: dict[str, Any]) -> None:
        super().__init__(config, ctx, memory)
        self.rule = AlertRule(self.config, self.memory)

    async def on_start(self) -> None:
        # Here, not at construction: the agent's sink exists by now, so a snapshot that lands between the
        # two is either in the book already (read now) or queued for on_event (its first observation).
        self._take_reference()

    def on_warm(self) -> None:
        # A just-subscribed token often has no book at on_start; after start_agent's warm-up it may.
        self._take_reference()

    def _take_reference(self) -> None:
        if self.rule.is_move and self.memory.get("reference") is None:
            self.rule.start(self._current())
            self.dirty = self.dirty or self.memory.get("reference") is not None

    def token_ids(self) -> list[str]:
        return [self.config["token_id"]]

    def _current(self) -> Decimal | None:
        """The watched price in the live book now (None when unknown or stale)."""
        book = self.ctx.books.get(self.config["token_id"])
        if book is None or book.stale:
            return None
        if self.config["source"] == "last_trade":
            price: Decimal | None = book.last_trade_price
            return price
        bid, ask = book.best_bid(), book.best_ask()
        return None if bid is None or ask is None else (bid + ask) / 2

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
        seen = self.memory.get("observations")
        firing = self.rule.observe(price)
        self.dirty = self.dirty or self.memory.get("observations") != seen
        if firing is None:
            return
        await self.ctx.alert(self.config["token_id"], firing.price, firing.message)
        if not self.config["repeat"]:
            self.finished = "one-shot alert fired"

    def stats(self) -> dict[str, Any]:
        return self.rule.stats()
