"""One token's local order book: snapshot + absolute-size level updates, exact and fast.

Contract
--------
* Prices and sizes are :class:`~decimal.Decimal`, exactly as the venue sent them; nothing is rounded.
* ``apply_price_change`` sets the **absolute** aggregate size of a level; size 0 removes it (the venue's
  semantics). A snapshot replaces both sides and clears ``stale``.
* Views (``bids``, ``asks``, ``walk``, ``view``) are best-first: bids descending, asks ascending.
* ``is_crossed()`` is true for crossed *or locked* books (best bid >= best ask): a healthy venue book is
  never either, so it means we missed an update and the caller should resync.

Performance: each side is a ``dict`` price -> size plus a sorted list of its prices. A size update of an
existing level is one dict store; only a new or removed level touches the list (``bisect``, a short
memmove). The best price is the end of the list, so it is O(1) and never recomputed with ``max()``.
A Decimal hash (~45 ns) is cheaper here than converting each price to integer ticks (~500 ns), which
is why the keys stay Decimal (see ``benchmarks/book_apply.py``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal, NamedTuple, Protocol

from polymarket_realtime.clock import SYSTEM_CLOCK, Clock
from polymarket_realtime.model.events import BookSnapshot, LastTrade, Level, PriceChange, Side, TickSizeChange

__all__ = ["BookReader", "BookTop", "OrderBook"]

_TWO = Decimal(2)
_ZERO = Decimal(0)


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class BookTop(NamedTuple):
    """The top of one book at one moment: best-first levels and metadata, unformatted."""

    asset_id: str
    market: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick_size: Decimal | None
    min_order_size: Decimal | None
    last_trade_price: Decimal | None
    source: Literal["ws", "rest"]
    updated_recv_ns: int
    stale: bool

    def to_dict(self, now_ns: int) -> dict[str, Any]:
        """JSON-ready: levels as ``{price, size}`` strings, best bid/ask, mid, spread, ``age_s`` at ``now_ns``."""
        best_bid = self.bids[0].price if self.bids else None
        best_ask = self.asks[0].price if self.asks else None
        both = best_bid is not None and best_ask is not None
        age = max(0.0, (now_ns - self.updated_recv_ns) / 1e9) if self.updated_recv_ns else None
        return {
            "asset_id": self.asset_id,
            "market": self.market,
            "bids": [{"price": str(level.price), "size": str(level.size)} for level in self.bids],
            "asks": [{"price": str(level.price), "size": str(level.size)} for level in self.asks],
            "best_bid": _str(best_bid),
            "best_ask": _str(best_ask),
            "mid": _str((best_bid + best_ask) / _TWO) if both else None,  # type: ignore[operator]
            "spread": _str(best_ask - best_bid) if both else None,  # type: ignore[operator]
            "tick_size": _str(self.tick_size),
            "min_order_size": _str(self.min_order_size),
            "last_trade_price": _str(self.last_trade_price),
            "source": self.source,
            "age_s": None if age is None else round(age, 3),
            "stale": self.stale,
        }


class OrderBook:
    """Local book of one token (``asset_id``), fed by normalized events.

    Attributes:
        tick_size, min_order_size, last_trade_price: Latest known values (None until seen).
        source: ``"ws"`` when built from the stream, ``"rest"`` when from a REST snapshot.
        updated_recv_ns: Local receive time of the last applied event (0 = never).
        ts_event_ms: Venue time of the last applied event.
        stale: True until the first snapshot and after ``mark_stale`` (connection lost) until the next.
        stale_reason: Why it was marked stale.
        hash: The hash of the last snapshot (equality checks only).
    """

    __slots__ = (
        "_ask_px",
        "_asks",
        "_bid_px",
        "_bids",
        "_clock",
        "asset_id",
        "hash",
        "last_trade_price",
        "market",
        "min_order_size",
        "source",
        "stale",
        "stale_reason",
        "tick_size",
        "ts_event_ms",
        "updated_recv_ns",
    )

    def __init__(self, asset_id: str = "", market: str = "", *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.asset_id = asset_id
        self.market = market
        self._clock = clock
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        # Both price lists ascending: best bid is _bid_px[-1], best ask _ask_px[0].
        self._bid_px: list[Decimal] = []
        self._ask_px: list[Decimal] = []
        self.tick_size: Decimal | None = None
        self.min_order_size: Decimal | None = None
        self.last_trade_price: Decimal | None = None
        self.source: Literal["ws", "rest"] = "ws"
        self.updated_recv_ns = 0
        self.ts_event_ms = 0
        self.stale = True
        self.stale_reason = "no snapshot yet"
        self.hash = ""

    # --- updates ------------------------------------------------------------------------------

    def apply_snapshot(self, snapshot: BookSnapshot) -> None:
        """Replace both sides (zero-size levels are dropped) and clear ``stale``."""
        # A repeated price keeps its last size (dict semantics) before zero-size levels are dropped.
        bids = {level.price: level.size for level in snapshot.bids}
        asks = {level.price: level.size for level in snapshot.asks}
        self._bids = {price: size for price, size in bids.items() if size}
        self._asks = {price: size for price, size in asks.items() if size}
        self._bid_px = sorted(self._bids)
        self._ask_px = sorted(self._asks)
        if snapshot.market:
            self.market = snapshot.market
        if snapshot.tick_size is not None:
            self.tick_size = snapshot.tick_size
        if snapshot.min_order_size is not None:
            self.min_order_size = snapshot.min_order_size
        if snapshot.last_trade_price is not None:
            self.last_trade_price = snapshot.last_trade_price
        self.source = snapshot.source
        self.hash = snapshot.hash
        self.stale = False
        self.stale_reason = ""
        self._touch(snapshot.ts_event_ms, snapshot.ts_recv_ns)

    def apply_price_change(self, change: PriceChange) -> None:
        """Set each changed level to its new absolute size; size 0 removes the level."""
        bids, asks = self._bids, self._asks
        for level in change.changes:
            if level.side == "BUY":
                sizes, prices = bids, self._bid_px
            else:
                sizes, prices = asks, self._ask_px
            price = level.price
            if level.size:
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = level.size
            elif price in sizes:
                del sizes[price]
                del prices[bisect_left(prices, price)]
        self._touch(change.ts_event_ms, change.ts_recv_ns)

    def apply_tick_size(self, change: TickSizeChange) -> None:
        self.tick_size = change.new_tick_size
        self._touch(change.ts_event_ms, change.ts_recv_ns)

    def apply_last_trade(self, trade: LastTrade) -> None:
        self.last_trade_price = trade.price
        self._touch(trade.ts_event_ms, trade.ts_recv_ns)

    def mark_stale(self, reason: str) -> None:
        self.stale = True
        self.stale_reason = reason

    def _touch(self, ts_event_ms: int, ts_recv_ns: int) -> None:
        if ts_event_ms:
            self.ts_event_ms = ts_event_ms
        self.updated_recv_ns = ts_recv_ns or self._clock.time_ns()

    # --- reads --------------------------------------------------------------------------------

    def best_bid(self) -> Decimal | None:
        return self._bid_px[-1] if self._bid_px else None

    def best_ask(self) -> Decimal | None:
        return self._ask_px[0] if self._ask_px else None

    def mid(self) -> Decimal | None:
        """(best bid + best ask) / 2, exact; None unless both sides have a level."""
        if not self._bid_px or not self._ask_px:
            return None
        return (self._bid_px[-1] + self._ask_px[0]) / _TWO

    def spread(self) -> Decimal | None:
        if not self._bid_px or not self._ask_px:
            return None
        return self._ask_px[0] - self._bid_px[-1]

    def is_crossed(self) -> bool:
        """True if best bid >= best ask (crossed or locked): the book missed an update."""
        return bool(self._bid_px) and bool(self._ask_px) and self._bid_px[-1] >= self._ask_px[0]

    def bids(self, depth: int | None = None) -> list[Level]:
        """Bid levels best-first (descending price); ``depth`` None = all."""
        if depth is None:
            prices = self._bid_px
        elif depth <= 0:
            return []
        else:
            prices = self._bid_px[-depth:]
        sizes = self._bids
        return [Level(price, sizes[price]) for price in reversed(prices)]

    def asks(self, depth: int | None = None) -> list[Level]:
        """Ask levels best-first (ascending price); ``depth`` None = all."""
        prices = self._ask_px if depth is None else self._ask_px[: max(depth, 0)]
        sizes = self._asks
        return [Level(price, sizes[price]) for price in prices]

    def level_counts(self) -> tuple[int, int]:
        """(number of bid levels, number of ask levels)."""
        return len(self._bid_px), len(self._ask_px)

    def size_at(self, side: Side, price: Decimal) -> Decimal:
        """Resting size at ``price`` on the bid (BUY) or ask (SELL) side; 0 if no level."""
        return (self._bids if side == "BUY" else self._asks).get(price, _ZERO)

    def walk(self, side: Side, size: Decimal) -> list[Level]:
        """Levels a market order of ``size`` would consume, best-first, with the size taken at each.

        BUY consumes asks, SELL consumes bids. The result is partial (sums to less than ``size``)
        when the book runs out of depth; empty for ``size <= 0``.
        """
        if side == "BUY":
            sizes, prices = self._asks, iter(self._ask_px)
        else:
            sizes, prices = self._bids, reversed(self._bid_px)
        remaining = size
        taken: list[Level] = []
        if remaining <= _ZERO:
            return taken
        for price in prices:
            available = sizes[price]
            take = available if available < remaining else remaining
            taken.append(Level(price, take))
            remaining -= take
            if remaining <= _ZERO:
                break
        return taken

    def age_s(self, now_ns: int | None = None) -> float | None:
        """Seconds since the last applied event; None if nothing was applied yet."""
        if not self.updated_recv_ns:
            return None
        now = self._clock.time_ns() if now_ns is None else now_ns
        return max(0.0, (now - self.updated_recv_ns) / 1e9)

    def top(self, depth: int = 10) -> BookTop:
        """Immutable top ``depth`` levels per side plus metadata; cheap (no formatting).

        The router stores one per event for order-book subscriptions; it is rendered to JSON only when
        somebody reads it (:meth:`BookTop.to_dict`).
        """
        return BookTop(
            asset_id=self.asset_id,
            market=self.market,
            bids=tuple(self.bids(depth)),
            asks=tuple(self.asks(depth)),
            tick_size=self.tick_size,
            min_order_size=self.min_order_size,
            last_trade_price=self.last_trade_price,
            source=self.source,
            updated_recv_ns=self.updated_recv_ns,
            stale=self.stale,
        )

    def view(self, depth: int = 10, now_ns: int | None = None) -> dict[str, Any]:
        """JSON-ready snapshot of the top ``depth`` levels per side plus summary and freshness.

        Decimals are rendered as strings (exact); absent values are None.
        """
        return self.top(depth).to_dict(self._clock.time_ns() if now_ns is None else now_ns)

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.asset_id!r}, bid={self.best_bid()}, ask={self.best_ask()}, "
            f"levels={self.level_counts()}, stale={self.stale})"
        )


class BookReader(Protocol):
    """Read access to the live books by token id: the one view paper, agents, recording and routing take.

    :class:`~polymarket_realtime.feed.books.BookStore` implements it; backtests pass their own store.
    """

    def get(self, asset_id: str) -> OrderBook | None: ...
    def asset_ids(self) -> list[str]: ...
    async def wait_live(self, asset_ids: Iterable[str], timeout_s: float) -> list[str]:
        """Wait (bounded) until those books are live; returns the ones still not live."""
        ...
