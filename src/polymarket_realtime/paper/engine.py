"""Pure fill simulation: paper orders in, fills out. No I/O, no event loop, no clock.

Contract
--------
* Prices and sizes are :class:`~decimal.Decimal`; an outcome token trades in ``(0, 1)``.
* :func:`validate_order` checks an order against the live book's tick size and minimum size and fails
  closed (:class:`~polymarket_realtime.errors.StaleDataError`) when the book is unknown or stale.
* :func:`walk_book` consumes opposite-side levels best-first (a BUY walks the asks); a market order
  fills what the book holds and the caller cancels the remainder.
* A limit order that crosses on arrival takes liquidity like a market order up to its price and rests
  the remainder. :func:`cross_resting` fills a resting order when the live book later crosses it and
  :func:`cross_trade` when a trade prints at or through its price; both at the limit price (the resting
  order is the maker), bounded by the crossing depth or the trade size.
* The live book is never modified: paper orders are assumed too small to move the venue (the same
  simplification freqtrade's dry-run makes).
* Fees follow the market's schedule when known (``fee = size * rate * (p * (1 - p)) ** exponent``,
  floored to 5 decimals as the venue does; makers pay nothing when the schedule is ``taker_only``, its
  default), else ``fee_bps`` of the notional on every fill, maker and taker alike.
  :meth:`FeeModel.reserve` is the most a fill at a price can cost in fees, which a resting BUY
  reserves from free cash so that its later fill can never drive cash below zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Literal, Protocol, TypeVar

from ..errors import InvalidInputError, StaleDataError
from ..model.events import Level, Side

__all__ = [
    "ZERO",
    "BookLike",
    "FeeModel",
    "FeeSchedule",
    "FillPlan",
    "Liquidity",
    "OrderType",
    "check_order_shape",
    "cross_levels",
    "cross_resting",
    "cross_trade",
    "less_used",
    "priority",
    "validate_order",
    "validate_price",
    "walk_book",
]

ZERO = Decimal(0)
ONE = Decimal(1)
_FEE_QUANTUM = Decimal("0.00001")
_BPS = Decimal(10_000)

Liquidity = Literal["taker", "maker"]
OrderType = Literal["market", "limit"]


class BookLike(Protocol):
    """The part of :class:`~polymarket_realtime.model.book.OrderBook` the engine reads."""

    @property
    def tick_size(self) -> Decimal | None: ...
    @property
    def min_order_size(self) -> Decimal | None: ...
    @property
    def stale(self) -> bool: ...
    @property
    def stale_reason(self) -> str: ...
    def bids(self, depth: int | None = None) -> list[Level]: ...
    def asks(self, depth: int | None = None) -> list[Level]: ...


class _Resting(Protocol):
    @property
    def side(self) -> str: ...
    @property
    def limit_price(self) -> Decimal | None: ...
    @property
    def created_ns(self) -> int: ...


RestingLike = TypeVar("RestingLike", bound=_Resting)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """A market's taker fee curve (Gamma ``feeSchedule``)."""

    rate: Decimal
    exponent: int = 1
    taker_only: bool = True


@dataclass(frozen=True, slots=True)
class FeeModel:
    """Fees for one token: the market schedule when known, else a flat ``fee_bps`` of notional."""

    fee_bps: Decimal = ZERO
    schedule: FeeSchedule | None = None

    def fee(self, price: Decimal, size: Decimal, liquidity: Liquidity) -> Decimal:
        if self.schedule is not None:
            if liquidity == "maker" and self.schedule.taker_only:
                return ZERO
            raw = size * self.schedule.rate * (price * (ONE - price)) ** self.schedule.exponent
        else:
            raw = price * size * self.fee_bps / _BPS
        return raw.quantize(_FEE_QUANTUM, rounding=ROUND_DOWN)

    def reserve(self, price: Decimal, size: Decimal) -> Decimal:
        """Worst-case fee of filling ``size`` at ``price`` (either liquidity); fees are linear in size
        and floored per fill, so the fees of any split of ``size`` at ``price`` never exceed it."""
        return max(self.fee(price, size, "taker"), self.fee(price, size, "maker"))

    def describe(self) -> str:
        if self.schedule is not None:
            who = "takers only" if self.schedule.taker_only else "makers and takers"
            return f"market schedule rate={self.schedule.rate} exponent={self.schedule.exponent} ({who})"
        return f"{self.fee_bps} bps of notional (makers and takers)"


@dataclass(frozen=True, slots=True)
class FillPlan:
    """Fills an order would get now: ``(price, size)`` per level, best first."""

    legs: tuple[tuple[Decimal, Decimal], ...] = ()
    liquidity: Liquidity = "taker"
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> Decimal:
        return sum((s for _, s in self.legs), ZERO)

    @property
    def notional(self) -> Decimal:
        return sum((p * s for p, s in self.legs), ZERO)

    @property
    def average_price(self) -> Decimal | None:
        size = self.size
        return self.notional / size if size > 0 else None


def validate_price(price: Decimal, tick: Decimal | None) -> None:
    """Raise :class:`InvalidInputError` unless ``0 < price < 1`` and ``price`` is on the tick grid."""
    if not price.is_finite() or not ZERO < price < ONE:
        raise InvalidInputError(f"limit_price {price} is outside (0, 1); outcome tokens trade strictly inside it.")
    if tick is not None and tick > 0 and price % tick != 0:
        lower = (price // tick) * tick
        raise InvalidInputError(
            f"limit_price {price} is not a multiple of the tick size {tick}; use {lower} or {lower + tick}."
        )


def validate_order(
    book: BookLike | None,
    *,
    token_id: str,
    side: Side,
    size: Decimal,
    order_type: OrderType,
    limit_price: Decimal | None,
) -> None:
    """Check an order before any state changes. Fails closed on an unknown or stale book."""
    check_order_shape(side=side, size=size, order_type=order_type, limit_price=limit_price)
    if book is None:
        raise StaleDataError(
            f"No live book for token {token_id} yet (subscription warming up or unknown token); order refused. "
            "Retry in a moment."
        )
    if book.stale:
        why = book.stale_reason or "feed disconnected or silent"
        raise StaleDataError(f"The book for token {token_id} is stale ({why}); order refused.")
    if limit_price is not None:
        validate_price(limit_price, book.tick_size)
    minimum = book.min_order_size
    if minimum is not None and size < minimum:
        raise InvalidInputError(f"size {size} is below this market's minimum order size {minimum}.")


def check_order_shape(*, side: Side, size: Decimal, order_type: OrderType, limit_price: Decimal | None) -> None:
    """The checks that need no book (run before waiting for one, so bad input is refused at once)."""
    if side not in ("BUY", "SELL"):
        raise InvalidInputError(f"side must be 'BUY' or 'SELL', not {side!r}.")
    if order_type not in ("market", "limit"):
        raise InvalidInputError(f"order_type must be 'market' or 'limit', not {order_type!r}.")
    if not size.is_finite() or size <= 0:
        raise InvalidInputError(f"size must be a positive number of shares, not {size}.")
    if order_type == "limit" and limit_price is None:
        raise InvalidInputError("a limit order needs limit_price (a price strictly between 0 and 1, on the tick).")
    if order_type == "market" and limit_price is not None:
        raise InvalidInputError("a market order takes no limit_price; use order_type='limit' to set a price.")


def walk_book(levels: Sequence[Level], size: Decimal, *, limit_price: Decimal | None = None, side: Side) -> FillPlan:
    """Consume best-first ``levels`` (the opposite side) up to ``size``; stop at ``limit_price`` if given."""
    legs: list[tuple[Decimal, Decimal]] = []
    remaining = size
    for level in levels:
        if remaining <= 0:
            break
        if limit_price is not None and (level.price > limit_price if side == "BUY" else level.price < limit_price):
            break
        if level.size <= 0:
            continue
        take = min(remaining, level.size)
        legs.append((level.price, take))
        remaining -= take
    return FillPlan(legs=tuple(legs), liquidity="taker")


def opposite_levels(book: BookLike, side: Side) -> list[Level]:
    return book.asks() if side == "BUY" else book.bids()


def cross_resting(book: BookLike, *, side: Side, remaining: Decimal, limit_price: Decimal) -> FillPlan:
    """Fill a resting limit order the live book now crosses.

    The resting paper order was there first, so the crossing flow trades with it at the limit price
    (maker); the size is bounded by the depth that crosses it.
    """
    return cross_levels(opposite_levels(book, side), side=side, remaining=remaining, limit_price=limit_price)[0]


def cross_levels(
    levels: Sequence[Level], *, side: Side, remaining: Decimal, limit_price: Decimal
) -> tuple[FillPlan, list[tuple[Decimal, Decimal]]]:
    """:func:`cross_resting` over explicit opposite ``levels``; also returns the ``(price, size)`` taken
    from each level, so the caller can give the rest of the depth to the next resting order."""
    taken = walk_book(levels, remaining, limit_price=limit_price, side=side)
    if taken.size <= 0:
        return FillPlan(), []
    return FillPlan(legs=((limit_price, taken.size),), liquidity="maker"), list(taken.legs)


def less_used(levels: Sequence[Level], used: Mapping[tuple[str, Decimal], Decimal], side: Side) -> list[Level]:
    """``levels`` minus the depth ``used[(side, price)]`` already allocated to other resting orders."""
    return [Level(lv.price, lv.size - used.get((side, lv.price), ZERO)) for lv in levels]


def priority(orders: Iterable[RestingLike]) -> list[RestingLike]:
    """Resting (limit) orders in price-time priority: best limit first (highest BUY, lowest SELL), then oldest."""
    resting = [o for o in orders if o.limit_price is not None]
    return sorted(
        resting,
        key=lambda o: (o.side, -(o.limit_price or ZERO) if o.side == "BUY" else (o.limit_price or ZERO), o.created_ns),
    )


def cross_trade(
    *, side: Side, remaining: Decimal, limit_price: Decimal, trade_price: Decimal, trade_size: Decimal
) -> FillPlan:
    """Fill a resting limit order from a trade print at or through its price (maker, at the limit).

    ``trade_size`` is what of the print is still unallocated (the caller decrements it per order)."""
    crossed = trade_price <= limit_price if side == "BUY" else trade_price >= limit_price
    if not crossed or trade_size <= 0 or remaining <= 0:
        return FillPlan()
    return FillPlan(legs=((limit_price, min(remaining, trade_size)),), liquidity="maker")
