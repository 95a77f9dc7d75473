"""Pure per-session risk limits (in the spirit of freqtrade's protections). No I/O.

* Order limits (``max_order_usd``, ``max_position_usd``, ``max_total_exposure_usd``) apply to orders
  that increase exposure (BUYs); a breaking order is rejected with :class:`RiskLimitError` naming the
  limit. Reducing orders (SELLs) are never blocked by risk: closing must always be possible.
* Loss limits (``max_daily_loss_usd`` against the equity at the start of the UTC day,
  ``max_drawdown_pct`` against the peak equity) are evaluated on every fill and mark move;
  a breach halts the session (the service does that) and :func:`loss_breach` names the limit.
* Exposure counts open positions at the mark plus the notional of resting BUY orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal

from ..errors import InvalidInputError, RiskLimitError
from ..model.numbers import NotANumber, to_decimal

__all__ = ["RISK_LIMIT_NAMES", "RiskLimits", "check_order", "loss_breach"]

RISK_LIMIT_NAMES = (
    "max_order_usd",
    "max_position_usd",
    "max_total_exposure_usd",
    "max_daily_loss_usd",
    "max_drawdown_pct",
)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """``None`` means no limit. USD amounts and a percentage in ``(0, 100]``."""

    max_order_usd: Decimal | None = None
    max_position_usd: Decimal | None = None
    max_total_exposure_usd: Decimal | None = None
    max_daily_loss_usd: Decimal | None = None
    max_drawdown_pct: Decimal | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object] | None) -> RiskLimits:
        """Parse user input; unknown keys and non-positive values are errors naming the key."""
        values: dict[str, Decimal | None] = {}
        for key, value in (raw or {}).items():
            if key not in RISK_LIMIT_NAMES:
                raise InvalidInputError(f"unknown risk limit {key!r}; known limits: {', '.join(RISK_LIMIT_NAMES)}.")
            if value is None:
                values[key] = None
                continue
            try:
                number = to_decimal(value)
            except NotANumber:
                raise InvalidInputError(f"risk limit {key} must be a number, not {value!r}.") from None
            if not number.is_finite() or number <= 0:
                raise InvalidInputError(f"risk limit {key} must be positive, not {value}.")
            if key == "max_drawdown_pct" and number > _HUNDRED:
                raise InvalidInputError(f"max_drawdown_pct must be in (0, 100], not {value}.")
            values[key] = number
        return cls(**values)

    def to_dict(self) -> dict[str, str | None]:
        return {k: (None if v is None else str(v)) for k, v in asdict(self).items()}


def check_order(
    limits: RiskLimits,
    *,
    token_id: str,
    order_notional: Decimal,
    position_value: Decimal,
    total_position_value: Decimal,
    resting_buy_notional: Decimal,
    resting_buy_notional_token: Decimal,
) -> None:
    """Raise :class:`RiskLimitError` if an exposure-increasing order of ``order_notional`` USD breaks a limit."""
    if limits.max_order_usd is not None and order_notional > limits.max_order_usd:
        raise RiskLimitError(
            f"Order notional {_usd(order_notional)} exceeds max_order_usd {_usd(limits.max_order_usd)}.",
            limit="max_order_usd",
        )
    if limits.max_position_usd is not None:
        after = position_value + resting_buy_notional_token + order_notional
        if after > limits.max_position_usd:
            raise RiskLimitError(
                f"Position in {token_id} would be {_usd(after)} (incl. resting buys), above max_position_usd "
                f"{_usd(limits.max_position_usd)}.",
                limit="max_position_usd",
            )
    if limits.max_total_exposure_usd is not None:
        after = total_position_value + resting_buy_notional + order_notional
        if after > limits.max_total_exposure_usd:
            raise RiskLimitError(
                f"Total exposure would be {_usd(after)} (positions at mark + resting buys), above "
                f"max_total_exposure_usd {_usd(limits.max_total_exposure_usd)}.",
                limit="max_total_exposure_usd",
            )


def loss_breach(
    limits: RiskLimits, *, equity: Decimal, day_start_equity: Decimal, peak_equity: Decimal
) -> tuple[str, str] | None:
    """``(limit, reason)`` if a loss limit is breached, else ``None``."""
    if limits.max_daily_loss_usd is not None:
        loss = day_start_equity - equity
        if loss >= limits.max_daily_loss_usd:
            return (
                "max_daily_loss_usd",
                f"daily loss {_usd(loss)} reached max_daily_loss_usd {_usd(limits.max_daily_loss_usd)} "
                f"(equity {_usd(equity)}, day start {_usd(day_start_equity)})",
            )
    if limits.max_drawdown_pct is not None and peak_equity > 0:
        drawdown = (peak_equity - equity) / peak_equity * _HUNDRED
        if drawdown >= limits.max_drawdown_pct:
            return (
                "max_drawdown_pct",
                f"drawdown {drawdown:.2f}% from peak {_usd(peak_equity)} reached max_drawdown_pct "
                f"{limits.max_drawdown_pct}%",
            )
    return None


def _usd(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'))}"
