"""Simulated markets: metadata plus the mutable YES book (the NO book is its mirror image)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .wire import PRICE_ONE, fmt_price

__all__ = ["SimMarket", "SimToken"]


@dataclass(frozen=True, slots=True)
class SimToken:
    token_id: str
    outcome: str


@dataclass(slots=True)
class SimMarket:
    """Metadata plus mutable state of one binary market. ``bids``/``asks`` are the YES book."""

    condition_id: str
    market_id: str
    slug: str
    question: str
    tokens: tuple[SimToken, SimToken]
    event_id: str
    event_title: str
    event_slug: str
    end_date: str
    tick: int = 100
    min_order_size: int = 5
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    last_trade: int | None = None
    """Last YES trade price (units)."""
    volume_cents: int = 0
    closed: bool = False
    winner: int | None = None
    """Index of the winning token once resolved."""
    version: str = "v1"
    """Gamma ``version``: "v2" markets have a 31-byte condition id (``condition_id`` holds the CLOB's
    zero-padded 64-hex form) and 75-digit position ids."""

    @property
    def gamma_condition_id(self) -> str:
        """The condition id as Gamma shows it: 62 hex digits for a V2 market (the padding byte dropped)."""
        return self.condition_id[:-2] if self.version == "v2" else self.condition_id

    @property
    def wire_version(self) -> str | None:
        """The ``version`` key V2 ``book`` frames and ``/book`` answers carry (V1 ones have none)."""
        return "v2" if self.version == "v2" else None

    @property
    def tick_size(self) -> str:
        return fmt_price(self.tick)

    @property
    def token_ids(self) -> tuple[str, str]:
        return (self.tokens[0].token_id, self.tokens[1].token_id)

    def best_bid(self, index: int = 0) -> int | None:
        """Best bid of token ``index`` (0 YES, 1 NO) in units, or None for an empty side."""
        side = self.bids if index == 0 else self.asks
        if not side:
            return None
        return max(side) if index == 0 else PRICE_ONE - min(side)

    def best_ask(self, index: int = 0) -> int | None:
        side = self.asks if index == 0 else self.bids
        if not side:
            return None
        return min(side) if index == 0 else PRICE_ONE - max(side)

    def levels(self, index: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids ascending, asks descending) for token ``index``: the venue's order, best last."""
        if index == 0:
            return sorted(self.bids.items()), sorted(self.asks.items(), reverse=True)
        bids = sorted(((PRICE_ONE - p, s) for p, s in self.asks.items()))
        asks = sorted(((PRICE_ONE - p, s) for p, s in self.bids.items()), reverse=True)
        return bids, asks

    def last_trade_for(self, index: int) -> int | None:
        if self.last_trade is None:
            return None
        return self.last_trade if index == 0 else PRICE_ONE - self.last_trade

    def mid(self, index: int = 0) -> int | None:
        bid, ask = self.best_bid(index), self.best_ask(index)
        if bid is None or ask is None:
            return None
        return (bid + ask) // 2
