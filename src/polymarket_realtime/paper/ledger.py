"""Pure positions, cash and P&L from fills. No I/O.

Contract
--------
* Long-only outcome tokens (as on Polymarket: to bet against an outcome, buy the other one). A SELL
  can never exceed the held size; :meth:`Ledger.apply_fill` raises if asked to.
* ``cash`` moves by ``-(price * size) - fee`` on a BUY and ``+(price * size) - fee`` on a SELL, so for
  any fill ``equity_after == equity_before - fee + size * (mark - price) * sign`` with marks held fixed:
  equity changes only by fees and mark moves (the property tests check this).
* Each position keeps its exact cost basis; the average price (cost / size) is derived. Fees are kept
  separately, in ``fees_paid``. Realized P&L is proceeds minus the cost removed, on sells and
  settlements, so ``cash + cost basis == starting cash + realized - fees`` holds exactly.
* Settlement pays 1 per share of the winning token and 0 for the others, and closes the position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ..model.events import Side

__all__ = ["Ledger", "Position"]

ZERO = Decimal(0)
_AVG_QUANTUM = Decimal("1e-10")
_COST_QUANTUM = Decimal("1e-10")
"""Cost removed by a partial sell is rounded here, so every amount keeps a bounded number of decimals
and sums stay exact (no 28-digit quotient ever enters cash or cost)."""


@dataclass(slots=True)
class Position:
    """An open position. ``cost`` is the exact cost basis of the open size (sum of price * size bought,
    less what sells and settlements removed); the average price is derived from it."""

    token_id: str
    size: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    @property
    def average_price(self) -> Decimal:
        return (self.cost / self.size).quantize(_AVG_QUANTUM) if self.size else ZERO

    def unrealized(self, mark: Decimal | None) -> Decimal:
        return ZERO if mark is None or not self.size else mark * self.size - self.cost


@dataclass(slots=True)
class Ledger:
    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO

    def copy(self) -> Ledger:
        return Ledger(
            cash=self.cash,
            positions={k: replace(v) for k, v in self.positions.items()},
            realized_pnl=self.realized_pnl,
            fees_paid=self.fees_paid,
        )

    def size(self, token_id: str) -> Decimal:
        pos = self.positions.get(token_id)
        return pos.size if pos is not None else ZERO

    def apply_fill(self, token_id: str, side: Side, price: Decimal, size: Decimal, fee: Decimal) -> None:
        """Book one fill. Raises ``ValueError`` for a non-positive size or a SELL beyond the position."""
        if size <= 0:
            raise ValueError("fill size must be positive")
        pos = self.positions.setdefault(token_id, Position(token_id))
        if side == "BUY":
            pos.size += size
            pos.cost += price * size
            self.cash -= price * size + fee
        else:
            if size > pos.size:
                raise ValueError(f"cannot sell {size} of {token_id}: only {pos.size} held")
            removed = pos.cost if size == pos.size else (pos.cost * size / pos.size).quantize(_COST_QUANTUM)
            pnl = price * size - removed
            pos.size -= size
            pos.cost -= removed
            pos.realized_pnl += pnl
            self.realized_pnl += pnl
            self.cash += price * size - fee
        self.fees_paid += fee

    def settle(self, token_id: str, payout: Decimal) -> Decimal:
        """Close ``token_id`` at ``payout`` (1 or 0) per share; returns the realized P&L."""
        pos = self.positions.get(token_id)
        if pos is None or pos.size == 0:
            return ZERO
        pnl = payout * pos.size - pos.cost
        self.cash += payout * pos.size
        pos.realized_pnl += pnl
        self.realized_pnl += pnl
        pos.size = ZERO
        pos.cost = ZERO
        return pnl

    def position_value(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        """Open positions valued at ``marks`` (at cost where no mark exists)."""
        total = ZERO
        for token_id, pos in self.positions.items():
            if pos.size:
                mark = marks.get(token_id)
                total += pos.size * mark if mark is not None else pos.cost
        return total

    def equity(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        return self.cash + self.position_value(marks)

    def unrealized_pnl(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        return sum((p.unrealized(marks.get(t)) for t, p in self.positions.items() if p.size), ZERO)
