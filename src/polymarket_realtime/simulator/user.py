"""User-channel activity: order and trade lifecycles for authenticated accounts
(docs/polymarket-protocol.md#user-channel).

A lifecycle is: ``order`` PLACEMENT -> ``order`` UPDATE (partial fill) -> ``trade`` MATCHED -> MINED ->
CONFIRMED (sometimes MATCHED -> RETRYING -> MINED -> CONFIRMED, sometimes MATCHED -> FAILED) and, on
every second lifecycle, ``order`` CANCELLATION of the remainder (the others stay open, so
``GET /data/orders`` has something to list). ``created_at``/``match_time``/``last_update`` are seconds,
``timestamp`` milliseconds, as the venue sends them. The same frames update the REST views served by
``/data/orders`` and ``/data/trades``.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import SimAccount
from .market_model import MarketModel, SimMarket
from .wire import PRICE_ONE, OutFrame, dumps, fmt_price, fmt_size

__all__ = ["UserActivity"]

ConnectionsFn = Callable[[], list[tuple[str, str, frozenset[str]]]]


@dataclass(order=True)
class _Scheduled:
    due: float
    seq: int
    frame: OutFrame = field(compare=False)
    record: tuple[str, str, dict[str, Any]] | None = field(compare=False, default=None)
    """(kind "order"|"trade", owner api key, REST row) applied when the frame is sent."""


class UserActivity:
    """Schedules lifecycles on the monotonic clock (user events keep flowing while the market is paused)."""

    def __init__(
        self,
        *,
        seed: int,
        model: MarketModel,
        account: SimAccount | None,
        connections: ConnectionsFn,
        now_ms: Callable[[], int],
    ) -> None:
        self._rng = random.Random(seed * 104_729 + 3)
        self._model = model
        self.account = account
        self._connections = connections
        self._now_ms = now_ms
        self._queue: list[_Scheduled] = []
        self._seq = itertools.count()
        self._last_auto: dict[str, float] = {}
        self.lifecycles = 0
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}
        """owner api key -> order id -> REST order row (open orders only)."""
        self.trades: dict[str, dict[str, dict[str, Any]]] = {}
        self.closed_orders: dict[str, dict[str, dict[str, Any]]] = {}
        """owner api key -> order id -> last row of orders no longer open (``/data/orders?id=`` finds them)."""
        self.page_size = 100
        """Rows per ``/data/orders`` / ``/data/trades`` page (tests lower it to exercise paging)."""

    def poll(self, _sim_time_s: float = 0.0) -> Sequence[OutFrame]:
        now = time.monotonic()
        self._auto(now)
        out = []
        while self._queue and self._queue[0].due <= now:
            item = heapq.heappop(self._queue)
            if item.record is not None:
                self._apply(*item.record)
            out.append(item.frame)
        return out

    def _auto(self, now: float) -> None:
        account = self.account
        if account is None or account.lifecycle_every_s is None:
            return
        for api_key, address, markets in self._connections():
            if account.address and address.lower() != account.address.lower():
                continue
            last = self._last_auto.setdefault(api_key, now)
            if now - last >= account.lifecycle_every_s:
                self._last_auto[api_key] = now
                self.start(api_key, address, markets=markets)

    def _apply(self, kind: str, owner: str, row: dict[str, Any]) -> None:
        if kind == "order":
            book = self.orders.setdefault(owner, {})
            if row["status"] == "LIVE":
                book[row["id"]] = row
            else:
                book.pop(row["id"], None)
                self.closed_orders.setdefault(owner, {})[row["id"]] = row
        else:
            self.trades.setdefault(owner, {})[row["id"]] = row

    def start(
        self, api_key: str, address: str, *, market: str | None = None, markets: frozenset[str] = frozenset()
    ) -> str | None:
        """Schedule one full lifecycle for ``api_key``; returns the trade id (None if no market is open)."""
        chosen = self._pick_market(market, markets)
        if chosen is None:
            return None
        self.lifecycles += 1
        rng = self._rng
        delay = self.account.step_delay_s if self.account is not None else 0.05
        index = rng.randrange(2)
        token = chosen.tokens[index]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        bid = chosen.best_bid(index) or chosen.tick
        ask = chosen.best_ask(index) or PRICE_ONE - chosen.tick
        price = bid if side == "BUY" else ask
        size = rng.randrange(10, 200) * 100
        filled = size // 2
        order_id = f"0x{rng.getrandbits(256):064x}"
        trade_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        taker_order = f"0x{rng.getrandbits(256):064x}"
        outcome = token.outcome.upper()
        now_ms = self._now_ms()
        created_s = now_ms // 1000
        base = {
            "id": order_id,
            "owner": api_key,
            "order_owner": api_key,
            "market": chosen.condition_id,
            "asset_id": token.token_id,
            "side": side,
            "outcome": outcome,
            "original_size": fmt_size(size),
            "price": fmt_price(price),
            "associate_trades": None,
            "created_at": str(created_s),
            "expiration": "0",
            "order_type": "GTC",
            "maker_address": address,
        }
        roll = rng.random()
        statuses = ["MATCHED", "MINED", "CONFIRMED"]
        if roll < 0.2:
            statuses = ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]
        elif roll < 0.3:
            statuses = ["MATCHED", "FAILED"]
        tx_hash = f"0x{rng.getrandbits(256):064x}"
        steps: list[tuple[dict[str, Any], tuple[str, str, dict[str, Any]] | None]] = []

        def order(kind: str, matched: int, status: str) -> None:
            event: dict[str, Any] = {
                "event_type": "order",
                "type": kind,
                **base,
                "size_matched": fmt_size(matched),
                "status": status,
            }
            row: dict[str, Any] = {k: v for k, v in event.items() if k not in ("event_type", "type")}
            row["created_at"] = created_s
            row["associate_trades"] = [trade_id] if matched else []
            steps.append((event, ("order", api_key, row)))

        order("PLACEMENT", 0, "LIVE")
        order("UPDATE", filled, "LIVE")
        for status in statuses:
            trade = {
                "event_type": "trade",
                "type": "TRADE",
                "id": trade_id,
                "taker_order_id": taker_order,
                "market": chosen.condition_id,
                "asset_id": token.token_id,
                "side": "SELL" if side == "BUY" else "BUY",  # the taker's side; we were the maker
                "size": fmt_size(filled),
                "price": fmt_price(price),
                "fee_rate_bps": "0",
                "status": status,
                "match_time": str(created_s),
                "last_update": "",
                "outcome": outcome,
                "owner": api_key,
                "trade_owner": api_key,
                "maker_address": address,
                "transaction_hash": "" if status in ("MATCHED", "FAILED") else tx_hash,
                "bucket_index": 0,
                "trader_side": "MAKER",
                "maker_orders": [
                    {
                        "order_id": order_id,
                        "owner": api_key,
                        "maker_address": address,
                        "matched_amount": fmt_size(filled),
                        "price": fmt_price(price),
                        "fee_rate_bps": "0",
                        "asset_id": token.token_id,
                        "outcome": outcome,
                        "outcome_index": index,
                        "side": side,
                    }
                ],
            }
            row = {k: v for k, v in trade.items() if k not in ("event_type", "type")}
            row["status"] = f"TRADE_STATUS_{status}"
            steps.append((trade, ("trade", api_key, row)))
        if self.lifecycles % 2 == 0:
            order("CANCELLATION", filled, "CANCELED")
        start = time.monotonic()
        for i, (event, record) in enumerate(steps):
            # Stamp when scheduled; clients parse seconds-or-ms by magnitude [docs/polymarket-protocol.md#timestamps].
            stamp_ms = now_ms + int(i * delay * 1000)
            event["timestamp"] = str(stamp_ms)
            if event["event_type"] == "trade":
                event["last_update"] = str(stamp_ms // 1000)
                if record is not None:
                    record[2]["last_update"] = event["last_update"]
            frame = OutFrame(
                channel="user",
                text=dumps(event),
                market=chosen.condition_id,
                owner=api_key,
                event_type=str(event["event_type"]),
            )
            heapq.heappush(self._queue, _Scheduled(start + i * delay, next(self._seq), frame, record))
        return trade_id

    def cancel(self, order_id: str) -> bool:
        """Cancel one open order now (``order`` CANCELLATION frame + REST views); False if it is not open."""
        for owner, book in self.orders.items():
            row = book.get(order_id)
            if row is None:
                continue
            now_ms = self._now_ms()
            closed = {**row, "status": "CANCELED"}
            event = {"event_type": "order", "type": "CANCELLATION", **closed, "timestamp": str(now_ms)}
            event["created_at"] = str(row["created_at"])
            frame = OutFrame(channel="user", text=dumps(event), market=row["market"], owner=owner, event_type="order")
            heapq.heappush(self._queue, _Scheduled(time.monotonic(), next(self._seq), frame, ("order", owner, closed)))
            return True
        return False

    def _pick_market(self, market: str | None, markets: frozenset[str]) -> SimMarket | None:
        if market:
            return self._model.market(market)
        pool = [m for m in self._model.active_markets() if not markets or m.condition_id in markets]
        if not pool:
            return None
        return pool[self._rng.randrange(len(pool))]

    @property
    def pending(self) -> int:
        return len(self._queue)
