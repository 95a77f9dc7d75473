"""Market metadata value objects (from Gamma): what a model needs to pick the right token.

Pure values, no I/O. Prices are :class:`~decimal.Decimal`. ``outcomes`` pairs each outcome name with
its CLOB token id (index i of Gamma's ``outcomes`` is index i of its token ids), so a caller never has
to guess which token is YES.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["MarketInfo", "Outcome"]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    token_id: str
    price: Decimal | None = None
    """Gamma's last indicative price of this outcome (0..1), when known."""


class MarketInfo(msgspec.Struct, frozen=True, kw_only=True):
    question: str
    slug: str
    condition_id: str
    market_id: str
    """Gamma's numeric market id, as a string."""
    outcomes: tuple[Outcome, ...]
    end_date: str | None = None
    """ISO-8601 end date as Gamma reports it."""
    volume: Decimal | None = None
    """Lifetime volume in USDC."""
    liquidity: Decimal | None = None
    """Resting liquidity in USDC."""
    active: bool = True
    closed: bool = False
    accepting_orders: bool | None = None
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    neg_risk: bool = False
    fees_enabled: bool | None = None
    fee_rate: Decimal | None = None
    """Gamma ``feeSchedule.rate`` (taker fee = size * rate * (p * (1 - p)) ** exponent), when published."""
    fee_exponent: Decimal | None = None
    """Gamma ``feeSchedule.exponent`` (1 when absent)."""
    fee_taker_only: bool | None = None
    """Gamma ``feeSchedule.taker_only`` (makers pay no fee) when published."""
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    last_trade_price: Decimal | None = None
    event_slug: str = ""
    event_id: str = ""
    winning_outcome: str | None = None
    """Resolved outcome name when the market is closed and Gamma prices show a winner."""
    winning_token_id: str | None = None

    @property
    def token_ids(self) -> list[str]:
        return [o.token_id for o in self.outcomes]

    def outcome_for(self, token_id: str) -> Outcome | None:
        for outcome in self.outcomes:
            if outcome.token_id == token_id:
                return outcome
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (decimals as strings)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result
