"""RTDS topic generator: crypto prices (Binance and Chainlink), equity prices and comments.

Message shape per spec section 4.1: ``{"topic","type","timestamp": <ms number>,"payload":{...}}``;
the server appends ``connection_id``. Prices are random walks; values on this socket are JSON numbers
(that is the venue's format), equities also carry the exact ``full_accuracy_value`` string.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from .wire import OutFrame, dumps

__all__ = ["BINANCE_SYMBOLS", "CHAINLINK_SYMBOLS", "EQUITY_SYMBOLS", "RtdsSource"]

BINANCE_SYMBOLS = ("btcusdt", "ethusdt", "solusdt", "xrpusdt")
CHAINLINK_SYMBOLS = ("btc/usd", "eth/usd", "sol/usd", "xrp/usd")
EQUITY_SYMBOLS = ("AAPL", "TSLA")
_START = {"btc": 97_000.0, "eth": 3_400.0, "sol": 190.0, "xrp": 2.4, "AAPL": 231.5, "TSLA": 342.0}


class RtdsSource:
    """Generates RTDS frames at ``rate_per_s`` (virtual time), deterministic per seed."""

    def __init__(self, *, seed: int, rate_per_s: float, event_ids: Sequence[str], now_ms: Callable[[], int]) -> None:
        self._rng = random.Random(seed * 31 + 5)
        self.rate_per_s = rate_per_s
        self.event_ids = list(event_ids)
        self._now_ms = now_ms
        self._prices = {k: Decimal(str(v)) for k, v in _START.items()}
        self._last: float | None = None
        self._carry = 0.0
        self._comment_no = 0

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        last = self._last if self._last is not None else sim_time_s
        self._last = sim_time_s
        if self.rate_per_s <= 0:
            return []
        due = min(self._carry + (sim_time_s - last) * self.rate_per_s, 50.0)
        count = int(due)
        self._carry = due - count
        return [self.next_frame() for _ in range(count)]

    def next_frame(self) -> OutFrame:
        roll = self._rng.random()
        if roll < 0.4:
            return self._crypto("crypto_prices", BINANCE_SYMBOLS)
        if roll < 0.75:
            return self._crypto("crypto_prices_chainlink", CHAINLINK_SYMBOLS)
        if roll < 0.92:
            return self._equity()
        return self._comment()

    def _walk(self, key: str, places: int) -> Decimal:
        price = self._prices[key]
        step = price * Decimal(self._rng.randrange(-20, 21)) / Decimal(100_000)
        price = (price + step).quantize(Decimal(1).scaleb(-places))
        self._prices[key] = price
        return price

    def _message(self, topic: str, kind: str, payload: dict[str, Any]) -> OutFrame:
        body = {"topic": topic, "type": kind, "timestamp": self._now_ms(), "payload": payload}
        return OutFrame(channel="rtds", text=dumps(body), topic=topic, event_type=kind)

    def _crypto(self, topic: str, symbols: Sequence[str]) -> OutFrame:
        symbol = symbols[self._rng.randrange(len(symbols))]
        price = self._walk(symbol[:3], 4 if symbol.startswith("xrp") else 2)
        observed = self._now_ms() - self._rng.randrange(5, 40)
        return self._message(topic, "update", {"symbol": symbol, "timestamp": observed, "value": float(price)})

    def _equity(self) -> OutFrame:
        symbol = EQUITY_SYMBOLS[self._rng.randrange(len(EQUITY_SYMBOLS))]
        price = self._walk(symbol, 4)
        now = self._now_ms()
        payload = {
            "symbol": symbol,
            "timestamp": now - 20,
            "value": float(price),
            "full_accuracy_value": format(price, "f"),
            "received_at": now - 5,
            "is_carried_forward": False,
        }
        return self._message("equity_prices", "update", payload)

    def comment_frame(self) -> OutFrame:
        """One comment or reaction frame now (tests use it instead of waiting for the 8% roll)."""
        return self._comment()

    def _comment(self) -> OutFrame:
        if not self.event_ids:
            return self._equity()
        self._comment_no += 1
        event_id = self.event_ids[self._rng.randrange(len(self.event_ids))]
        now_iso = "2026-11-23T12:00:00.000000Z"
        user = f"0x{self._rng.getrandbits(160):040x}"
        if self._comment_no % 3 == 0:
            payload: dict[str, Any] = {
                "id": str(700_000 + self._comment_no),
                "commentID": str(600_000 + self._comment_no - 1),
                "reactionType": "HEART",
                "icon": "",
                "parentEntityType": "Event",
                "parentEntityID": int(event_id),
                "userAddress": user,
                "createdAt": now_iso,
            }
            return self._message("comments", "reaction_created", payload)
        payload = {
            "id": str(600_000 + self._comment_no),
            "body": f"Simulated comment #{self._comment_no}",
            "parentEntityType": "Event",
            "parentEntityID": int(event_id),
            "parentCommentID": None,
            "userAddress": user,
            "replyAddress": None,
            "createdAt": now_iso,
            "updatedAt": now_iso,
            "reactionCount": 0,
            "reportCount": 0,
            "profile": {
                "baseAddress": user,
                "displayUsernamePublic": True,
                "name": f"sim-user-{self._comment_no % 17}",
                "proxyWallet": user,
                "pseudonym": f"Simulated-Trader-{self._comment_no % 17}",
            },
        }
        return self._message("comments", "comment_created", payload)
