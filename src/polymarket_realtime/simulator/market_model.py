"""A deterministic, seeded model of Polymarket binary markets and their order books.

Over 400 lines: one seeded model; the books, the random walk over them and the events it emits share the
market state and two random streams, so they read best together; the JSON is built in wire.py.

Each market holds ONE book, for its YES token; the NO token's book is the mirror image (a NO bid at
``1 - p`` is a YES ask at ``p``), so YES/NO prices stay complementary by construction and every level
change produces one ``price_change`` entry per token, as the venue sends them. Prices are integer
units of 1/10,000, sizes integer 1/100 shares (see :mod:`.wire`). The same seed gives the same markets,
books and event sequence; only timestamps come from the wall clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from .comments import CommentBoard
from .markets import SimMarket, SimToken
from .wire import PRICE_ONE, Audience, OutFrame, book_event, dumps, fmt_price, fmt_size, rest_book

__all__ = ["MarketModel", "SimMarket", "SimToken"]

_TOPICS = ("Bitcoin", "Ethereum", "Fed rates", "Election", "NBA Finals", "Oscars", "Inflation", "Solana", "Tesla")
_MIN_LEVELS, _MAX_LEVELS = 10, 30


class MarketModel:
    """Markets plus a random walk over their books. Not thread-safe; the simulator drives it from one loop.

    Args:
        seed: the whole market list and event sequence derive from it.
        markets: number of markets at start.
        book_depth: typical levels per side (clamped to 10..30).
        now_ms: wall-clock source for event timestamps.
        v2_every: every ``v2_every``-th market (indexes ``v2_every - 1``, ``2 * v2_every - 1``, ...) is a
            Protocol V2 market; 0 = none. The draws are the same either way, so the other markets keep
            their ids.
    """

    def __init__(
        self, *, seed: int, markets: int, book_depth: int = 20, now_ms: Callable[[], int], v2_every: int = 0
    ) -> None:
        self._meta_rng = random.Random(seed)
        self._rng = random.Random(seed * 7919 + 1)
        self._depth = max(_MIN_LEVELS, min(_MAX_LEVELS, book_depth))
        self._now_ms = now_ms
        self.markets: list[SimMarket] = []
        self._active: list[SimMarket] | None = None
        self._by_token: dict[str, tuple[SimMarket, int]] = {}
        self._by_condition: dict[str, SimMarket] = {}
        self.events_generated = 0
        self._v2_every = max(0, v2_every)
        self.comments = CommentBoard()
        self.keyset_cursor_faults = 0
        """Gamma refuses (422) this many upcoming keyset requests that carry a cursor (tests of the restart)."""
        for _ in range(markets):
            self._create_market()

    # ------------------------------------------------------------------ lookup

    def token(self, token_id: str) -> tuple[SimMarket, int] | None:
        """(market, token index) for a token id, or None."""
        return self._by_token.get(token_id)

    def market(self, condition_id: str) -> SimMarket | None:
        return self._by_condition.get(condition_id)

    def is_known(self, asset_id: str) -> bool:
        found = self._by_token.get(asset_id)
        return found is not None and not found[0].closed

    def active_markets(self) -> list[SimMarket]:
        if self._active is None:
            self._active = [m for m in self.markets if not m.closed]
        return list(self._active)

    # ------------------------------------------------------------------ snapshots

    def book_event(self, asset_id: str) -> dict[str, Any] | None:
        found = self._by_token.get(asset_id)
        if found is None:
            return None
        market, index = found
        bids, asks = market.levels(index)
        return book_event(
            market=market.condition_id,
            asset_id=asset_id,
            bids_ascending=bids,
            asks_descending=asks,
            timestamp_ms=self._now_ms(),
            tick=market.tick,
            last_trade=market.last_trade_for(index),
            version=market.wire_version,
        )

    def rest_book(self, asset_id: str) -> dict[str, Any] | None:
        """``GET /book`` body; None (a 404 at the venue) for unknown tokens and resolved markets."""
        found = self._by_token.get(asset_id)
        if found is None or found[0].closed:
            return None
        market, index = found
        bids, asks = market.levels(index)
        return rest_book(
            market=market.condition_id,
            asset_id=asset_id,
            bids_ascending=bids,
            asks_descending=asks,
            timestamp_ms=self._now_ms(),
            tick=market.tick,
            min_order_size=market.min_order_size,
            neg_risk=False,
            last_trade=market.last_trade_for(index),
            version=market.wire_version,
        )

    # ------------------------------------------------------------------ events

    def step(self, n: int = 1) -> list[OutFrame]:
        """Generate ``n`` model events (each may produce several frames)."""
        frames: list[OutFrame] = []
        for _ in range(n):
            if self._active is None:
                self._active = [m for m in self.markets if not m.closed]
            active = self._active
            if not active:
                break
            market = active[int(self._rng.random() * len(active))]
            before = (market.best_bid(), market.best_ask())
            roll = self._rng.random()
            if roll < 0.78:
                self._quote(market, frames)
            else:
                self._trade(market, frames)
            self._after_change(market, before, frames)
            self.events_generated += 1
        return frames

    def move_price(self, condition_id: str, price: int) -> list[OutFrame]:
        """Sweep the YES book so its best bid sits just below ``price`` (units); emits every change.

        Used by tests to cross the 0.96/0.04 tick-size thresholds on demand.
        """
        market = self._by_condition[condition_id]
        before = (market.best_bid(), market.best_ask())
        frames: list[OutFrame] = []
        changes: list[tuple[str, int, int]] = []
        for p in [p for p in market.bids if p >= price]:
            del market.bids[p]
            changes.append(("bid", p, 0))
        for p in [p for p in market.asks if p <= price]:
            del market.asks[p]
            changes.append(("ask", p, 0))
        bid = max(market.tick, price - market.tick)
        ask = min(PRICE_ONE - market.tick, price + market.tick)
        for side, book, p in (("bid", market.bids, bid), ("ask", market.asks, ask)):
            if p not in book and 0 < p < PRICE_ONE:
                book[p] = self._size()
                changes.append((side, p, book[p]))
        for side, p, size in changes:
            frames.append(self._price_change(market, side, p, size))
        self._after_change(market, before, frames)
        return frames

    def resolve(self, condition_id: str | None = None, winner: int | None = None) -> list[OutFrame]:
        """Resolve a market (default: the last active one): ``market_resolved`` then empty books."""
        market = self._by_condition[condition_id] if condition_id else self.active_markets()[-1]
        if market.closed:
            return []
        market.winner = winner if winner is not None else self._rng.randrange(2)
        market.closed = True
        self._active = None
        market.bids.clear()
        market.asks.clear()
        now = self._now_ms()
        win = market.tokens[market.winner]
        payload = {
            "event_type": "market_resolved",
            "id": market.market_id,
            "market": market.condition_id,
            "assets_ids": list(market.token_ids),
            "winning_asset_id": win.token_id,
            "winning_outcome": win.outcome,
            "event_message": self._event_message(market),
            "timestamp": str(now),
            "tags": ["simulated"],
        }
        frames = [self._frame(market, payload, audience="market_custom")]
        for index, token in enumerate(market.tokens):
            event = book_event(
                market=market.condition_id,
                asset_id=token.token_id,
                bids_ascending=[],
                asks_descending=[],
                timestamp_ms=now,
                tick=market.tick,
                last_trade=market.last_trade_for(index),
                version=market.wire_version,
            )
            frames.append(self._frame(market, event, assets=(token.token_id,)))
        return frames

    def add_market(self) -> list[OutFrame]:
        """Create a market and announce it with ``new_market`` (custom-feature connections only)."""
        market = self._create_market()
        payload = {
            "event_type": "new_market",
            "id": market.market_id,
            "question": market.question,
            "market": market.condition_id,
            "slug": market.slug,
            "description": f"Simulated market: {market.question}",
            "assets_ids": list(market.token_ids),
            "outcomes": [t.outcome for t in market.tokens],
            "event_message": self._event_message(market),
            "timestamp": str(self._now_ms()),
            "tags": ["simulated"],
            "condition_id": market.condition_id,
            "active": True,
            "clob_token_ids": list(market.token_ids),
            "sports_market_type": "",
            "line": "",
            "game_start_time": "",
            "order_price_min_tick_size": market.tick_size,
            "group_item_title": market.question,
            "taker_base_fee": "0",
            "fees_enabled": False,
        }
        return [self._frame(market, payload, audience="all_custom")]

    # ------------------------------------------------------------------ internals

    def _create_market(self) -> SimMarket:
        rng = self._meta_rng
        index = len(self.markets)
        topic = _TOPICS[index % len(_TOPICS)]
        threshold = rng.randrange(10, 200) * 5
        question = f"Will {topic} reach {threshold} by December 31?"
        slug = f"{topic.lower().replace(' ', '-')}-{threshold}-dec-31-{index}"
        v2 = self._v2_every > 0 and index % self._v2_every == self._v2_every - 1
        condition_id = f"0x{rng.getrandbits(256):064x}"
        ids = (str(rng.randrange(10**76, 10**77)), str(rng.randrange(10**76, 10**77)))
        if v2:
            # Protocol V2: a 31-byte condition id (zero-padded to 32 bytes on the CLOB and the sockets)
            # and 75-digit position ids; derived from the same draws so the sequence does not shift.
            condition_id = condition_id[:64] + "00"
            ids = (ids[0][:75], ids[1][:75])
        tokens = (SimToken(ids[0], "Yes"), SimToken(ids[1], "No"))
        event_no = index // 2
        market = SimMarket(
            condition_id=condition_id,
            market_id=str(500_000 + index),
            slug=slug,
            question=question,
            tokens=tokens,
            event_id=str(90_000 + event_no),
            event_title=f"{_TOPICS[(event_no * 2) % len(_TOPICS)]} outlook",
            event_slug=f"outlook-{event_no}",
            end_date=f"2026-12-{10 + index % 20:02d}T12:00:00Z",
            tick=10 if index % 4 == 3 else 100,
            version="v2" if v2 else "v1",
        )
        fair = rng.randrange(15, 86) * 100
        self._fill_book(market, fair, rng)
        self.markets.append(market)
        self._active = None
        self._by_condition[condition_id] = market
        for i, token in enumerate(tokens):
            self._by_token[token.token_id] = (market, i)
        return market

    def _fill_book(self, market: SimMarket, fair: int, rng: random.Random) -> None:
        tick = market.tick
        best_bid = fair - tick * rng.randrange(1, 3)
        best_ask = fair + tick * rng.randrange(1, 3)
        for start, step, book in ((best_bid, -1, market.bids), (best_ask, 1, market.asks)):
            price = start
            want = rng.randrange(max(_MIN_LEVELS, self._depth - 5), min(_MAX_LEVELS, self._depth + 5) + 1)
            while len(book) < want and tick <= price <= PRICE_ONE - tick:
                book[price] = rng.randrange(500, 500_000)
                price += step * tick * (1 if rng.random() < 0.8 else 2)

    def _size(self) -> int:
        # random() arithmetic rather than randrange(): this is the model's hot path.
        return 500 + int(self._rng.random() * 299_500)

    def _quote(self, market: SimMarket, frames: list[OutFrame]) -> None:
        rng = self._rng
        is_bid = rng.random() < 0.5
        book = market.bids if is_bid else market.asks
        side = "bid" if is_bid else "ask"
        ordered = sorted(book, reverse=is_bid)
        action = rng.random()
        if ordered and (action < 0.5 or (action < 0.7 and len(ordered) <= _MIN_LEVELS)):
            price = ordered[min(int(rng.expovariate(0.4)), len(ordered) - 1)]
            book[price] = self._size()
        elif ordered and action < 0.7:
            price = ordered[min(int(rng.expovariate(0.3)), len(ordered) - 1)]
            del book[price]
            frames.append(self._price_change(market, side, price, 0))
            return
        else:
            free = self._free_price(market, is_bid)
            if free is None:
                return
            price = free
            book[price] = self._size()
        frames.append(self._price_change(market, side, price, book[price]))

    def _free_price(self, market: SimMarket, is_bid: bool) -> int | None:
        """A price for a new level: inside the spread sometimes, else behind the best."""
        tick = market.tick
        bid, ask = market.best_bid(), market.best_ask()
        if bid is not None and ask is not None and ask - bid > tick and self._rng.random() < 0.35:
            return bid + tick if is_bid else ask - tick
        book = market.bids if is_bid else market.asks
        if len(book) >= _MAX_LEVELS:
            return None
        # An empty side is rebuilt away from the other side's best, never crossing it.
        own, other = (bid, ask) if is_bid else (ask, bid)
        anchor = own if own is not None else other if other is not None else PRICE_ONE // 2
        for _ in range(8):
            offset = tick * (1 + int(self._rng.random() * (_MAX_LEVELS - 1)))
            price = anchor - offset if is_bid else anchor + offset
            if tick <= price <= PRICE_ONE - tick and price not in book:
                return price
        return None

    def _trade(self, market: SimMarket, frames: list[OutFrame]) -> None:
        rng = self._rng
        lift_asks = rng.random() < 0.5  # YES taker BUY (or NO taker SELL) consumes YES asks
        book = market.asks if lift_asks else market.bids
        if not book:
            return
        price = min(book) if lift_asks else max(book)
        level = book[price]
        size = level if rng.random() < 0.3 else max(1, min(level, rng.randrange(500, max(501, level))))
        remaining = level - size
        if remaining:
            book[price] = remaining
        else:
            del book[price]
        market.last_trade = price
        market.volume_cents += size * price // PRICE_ONE
        on_no = rng.random() < 0.4
        index = 1 if on_no else 0
        taker_side = ("SELL" if lift_asks else "BUY") if on_no else ("BUY" if lift_asks else "SELL")
        token = market.tokens[index]
        payload = {
            "event_type": "last_trade_price",
            "asset_id": token.token_id,
            "market": market.condition_id,
            "price": fmt_price(price if index == 0 else PRICE_ONE - price),
            "size": fmt_size(size),
            "fee_rate_bps": "0",
            "side": taker_side,
            "timestamp": str(self._now_ms()),
            "transaction_hash": f"0x{rng.getrandbits(256):064x}",
        }
        frames.append(self._frame(market, payload, assets=(token.token_id,)))
        frames.append(self._price_change(market, "ask" if lift_asks else "bid", price, remaining))
        if not book:  # never leave a side empty on an open market
            fresh = self._free_price(market, not lift_asks) or price
            book[fresh] = self._size()
            frames.append(self._price_change(market, "ask" if lift_asks else "bid", fresh, book[fresh]))
        if rng.random() < 0.25:  # "book ... when a trade affects the book" [docs/polymarket-protocol.md#market-book]
            frames.extend(self._books(market))

    def _books(self, market: SimMarket) -> list[OutFrame]:
        out = []
        for token in market.tokens:
            event = self.book_event(token.token_id)
            if event is not None:
                out.append(self._frame(market, event, assets=(token.token_id,)))
        return out

    def _price_change(self, market: SimMarket, side: str, price: int, size: int) -> OutFrame:
        """One YES level change, reported for both tokens (the NO side is the mirror)."""
        yes_bid, yes_ask = market.best_bid(0), market.best_ask(0)
        no_bid = None if yes_ask is None else PRICE_ONE - yes_ask
        no_ask = None if yes_bid is None else PRICE_ONE - yes_bid
        yes_id, no_id = market.token_ids
        hashes = f"{self._rng.getrandbits(320):080x}"
        changes = [
            {
                "asset_id": yes_id,
                "price": fmt_price(price),
                "size": fmt_size(size),
                "side": "BUY" if side == "bid" else "SELL",
                "hash": hashes[:40],
                "best_bid": "" if yes_bid is None else fmt_price(yes_bid),
                "best_ask": "" if yes_ask is None else fmt_price(yes_ask),
            },
            {
                "asset_id": no_id,
                "price": fmt_price(PRICE_ONE - price),
                "size": fmt_size(size),
                "side": "SELL" if side == "bid" else "BUY",
                "hash": hashes[40:],
                "best_bid": "" if no_bid is None else fmt_price(no_bid),
                "best_ask": "" if no_ask is None else fmt_price(no_ask),
            },
        ]
        payload = {
            "event_type": "price_change",
            "market": market.condition_id,
            "price_changes": changes,
            "timestamp": str(self._now_ms()),
        }
        return self._frame(market, payload, assets=market.token_ids)

    def _after_change(self, market: SimMarket, before: tuple[int | None, int | None], out: list[OutFrame]) -> None:
        bid, ask = market.best_bid(), market.best_ask()
        if (bid, ask) != before:
            now = str(self._now_ms())
            for index, token in enumerate(market.tokens):
                b, a = market.best_bid(index), market.best_ask(index)
                payload = {
                    "event_type": "best_bid_ask",
                    "market": market.condition_id,
                    "asset_id": token.token_id,
                    "best_bid": "" if b is None else fmt_price(b),
                    "best_ask": "" if a is None else fmt_price(a),
                    "spread": "" if a is None or b is None else fmt_price(a - b),
                    "timestamp": now,
                }
                out.append(self._frame(market, payload, assets=(token.token_id,), audience="assets_custom"))
        # The venue moves to a 0.001 tick when the book goes above 0.96 or below 0.04
        # [docs/polymarket-protocol.md#market-tick-size-change].
        extreme = (bid is not None and bid > 9_600) or (ask is not None and ask < 400)
        new_tick = 10 if extreme else None
        if new_tick is not None and new_tick != market.tick:
            old, market.tick = market.tick, new_tick
            out.extend(self._tick_change(market, old))

    def _tick_change(self, market: SimMarket, old: int) -> Iterable[OutFrame]:
        now = str(self._now_ms())
        for token in market.tokens:
            payload = {
                "event_type": "tick_size_change",
                "asset_id": token.token_id,
                "market": market.condition_id,
                "old_tick_size": fmt_price(old),
                "new_tick_size": fmt_price(market.tick),
                "timestamp": now,
            }
            yield self._frame(market, payload, assets=(token.token_id,))

    def _event_message(self, market: SimMarket) -> dict[str, str]:
        return {
            "id": market.event_id,
            "ticker": market.event_slug,
            "slug": market.event_slug,
            "title": market.event_title,
            "description": f"Simulated event {market.event_title}",
        }

    def _frame(
        self,
        market: SimMarket,
        payload: dict[str, Any],
        *,
        assets: tuple[str, ...] | None = None,
        audience: Audience = "assets",
    ) -> OutFrame:
        return OutFrame(
            channel="market",
            text=dumps(payload),
            asset_ids=market.token_ids if assets is None else assets,
            market=market.condition_id,
            audience=audience,
            event_type=str(payload["event_type"]),
        )
