"""Paper-trading records as stored: sessions, positions, orders and fills.

:mod:`polymarket_realtime.paper` works with them and :mod:`polymarket_realtime.storage` reads and writes them
(``sessions``, ``orders``); they sit here, below both, because storage is the lower layer of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["FillRecord", "OrderRecord", "PositionRecord", "SessionRecord"]


@dataclass(slots=True)
class SessionRecord:
    id: str
    name: str
    state: str
    state_reason: str
    starting_cash: Decimal
    cash: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    fee_bps: Decimal | None
    risk: dict[str, str | None]
    token_ids: list[str]
    market_ids: list[str]
    peak_equity: Decimal
    day: str
    day_start_equity: Decimal
    created_ns: int
    updated_ns: int
    fee_schedules: dict[str, dict[str, str]] = field(default_factory=dict)
    """Market fee schedule per token (``rate``, ``exponent``, ``taker_only``) when Gamma published one."""


@dataclass(slots=True)
class PositionRecord:
    token_id: str
    size: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    cost: Decimal
    """Exact cost basis of the open size."""


@dataclass(slots=True)
class OrderRecord:
    id: str
    session_id: str
    token_id: str
    side: str
    order_type: str
    size: Decimal
    limit_price: Decimal | None
    filled: Decimal
    notional: Decimal
    fees: Decimal
    fill_count: int
    status: str
    reason: str
    created_ns: int
    updated_ns: int

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.filled if self.filled > 0 else None


@dataclass(slots=True)
class FillRecord:
    id: str
    order_id: str
    session_id: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: str
    ts_ns: int
