"""Market metadata value objects (from Gamma): what a model needs to pick the right token.

Pure values, no I/O. Prices are :class:`~decimal.Decimal`. ``outcomes`` pairs each outcome name with
its CLOB token id (index i of Gamma's ``outcomes`` is index i of its token ids), so a caller never has
to guess which token is YES. ``version`` says which Gamma field the ids came from (``positionIds`` for
Protocol V2, ``clobTokenIds`` for V1); a market of any other version has no outcome ids and an
``unsupported_reason``. :func:`settled_winner` is the single resolution rule (Gamma ``resolutionStatus``
for V2, ``umaResolutionStatus`` for V1) used by every resolution fallback.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["SUPPORTED_VERSIONS", "MarketInfo", "Outcome", "is_settled", "settled_winner"]

SUPPORTED_VERSIONS = ("v1", "v2")


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
    version: str = "v1"
    """Gamma ``version``: "v1" (CTF, ids from ``clobTokenIds``) or "v2" (Protocol V2, ids from ``positionIds``)."""
    resolution_status: str | None = None
    """Gamma ``resolutionStatus`` (V2: inactive, active or resolved)."""
    uma_resolution_status: str | None = None
    """Gamma ``umaResolutionStatus`` (V1)."""
    unsupported_reason: str | None = None
    """Why this market cannot be streamed yet (unknown version, ids not published); None when it can."""

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


def is_settled(market: MarketInfo) -> bool:
    """Whether Gamma reports the market resolved: V2 by ``resolutionStatus``, V1 by ``umaResolutionStatus``.

    A V1 answer without ``umaResolutionStatus`` (older Gamma answers, recordings) falls back to ``closed``.
    A V2 market that is closed but not yet ``resolved`` is not settled: its payout is not final.
    """
    if market.version == "v2":
        return (market.resolution_status or "").lower() == "resolved"
    if market.uma_resolution_status:
        return market.uma_resolution_status.lower() == "resolved"
    return market.closed


def settled_winner(market: MarketInfo) -> Outcome | None:
    """The winning outcome of a settled market (priced at 1 by Gamma), else None. The one resolution rule."""
    if not is_settled(market):
        return None
    winners = [o for o in market.outcomes if o.price is not None and o.price == 1]
    return winners[0] if len(winners) == 1 else None
