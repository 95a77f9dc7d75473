"""Replay a recording through the simulator's real sockets (an :class:`~.source.BookSource`).

Contract:

* Frames come out in file order, paced by their recorded receive times: ``speed=1`` is real time,
  ``speed=N`` N times faster, ``speed=None`` as fast as possible (at most ``max_frames_per_poll`` per
  broadcast tick, so other connections and the REST server stay responsive).
* The clock starts at the first market subscription (``start="first_subscribe"``, the default), so a
  client that connects after start-up still sees the recording from its first frame; or at once
  (``start="immediately"``).
* Subscriptions are honoured by the simulator's router: each recorded market frame becomes one
  :class:`~.wire.OutFrame` per event object (an array frame is split), keyed by its token ids, so a
  connection receives only the tokens it subscribed to. A single-object frame is sent exactly as
  recorded. ``price_change`` frames keep both tokens of a market, as the venue does.
* The source keeps the books it has replayed so far (venue wire strings, no parsing into our model:
  the simulator stays independent of the client code) and answers initial dumps and ``GET /book``
  from them.
* A damaged recording replays its valid prefix; :attr:`ReplaySource.error` then holds the
  :class:`~polymarket_realtime.errors.RecordingError` naming the offset.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..errors import ConfigError, RecordingError
from ..recording.format import RawFrame, RecordingHeader
from ..recording.reader import RecordingReader
from .wire import Audience, OutFrame, book_hash, dumps

if TYPE_CHECKING:
    from .runtime import Simulator

__all__ = ["ReplaySource", "parse_speed", "replay_simulator"]

logger = logging.getLogger(__name__)

_AUDIENCE: dict[str, Audience] = {
    "best_bid_ask": "assets_custom",
    "new_market": "all_custom",
    "market_resolved": "market_custom",
}


class _WireBook:
    __slots__ = ("asks", "bids", "last_trade", "market", "min_order_size", "tick_size", "timestamp")

    def __init__(self, market: str) -> None:
        self.market = market
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.tick_size = "0.01"
        self.min_order_size = "5"
        self.last_trade = ""
        self.timestamp = "0"

    def levels(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Venue order: bids ascending, asks descending (the best level last on both sides)."""
        bids = sorted(self.bids.items(), key=lambda kv: _dec(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: _dec(kv[0]), reverse=True)
        return [{"price": p, "size": s} for p, s in bids], [{"price": p, "size": s} for p, s in asks]


def _dec(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)


class ReplaySource:
    """Serve ``path`` as the simulator's market (and RTDS/user) source.

    Args:
        path: first part of the recording.
        speed: 1.0 real time, N times faster, or None for as fast as possible.
        start: ``first_subscribe`` (clock starts at the first market subscription) or ``immediately``.
        max_frames_per_poll: cap per broadcast tick in as-fast-as-possible mode.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        speed: float | None = 1.0,
        start: Literal["first_subscribe", "immediately"] = "first_subscribe",
        max_frames_per_poll: int = 2_000,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self.path = Path(path)
        self.reader = RecordingReader(self.path)
        self.header: RecordingHeader = self.reader.read_header()
        self.speed = speed
        self.max_frames_per_poll = max_frames_per_poll
        self._frames: Iterator[RawFrame] = self.reader.frames(on_error="stop")
        self._next: RawFrame | None = None
        self._base_ns: int | None = None
        self._started_at: float | None = 0.0 if start == "immediately" else None
        self._start_requested = start == "immediately"
        self._books: dict[str, _WireBook] = {}
        self.frames_replayed = 0
        self.finished = False

    @property
    def error(self) -> RecordingError | None:
        """Damage met so far (the valid prefix was replayed up to it)."""
        return self.reader.error

    @property
    def markets(self) -> list[dict[str, object]]:
        """Venue metadata of the recorded markets (from the header), for the Gamma endpoints."""
        return self.header.markets

    # --- EventSource ----------------------------------------------------------------------------

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        if self.finished:
            return []
        if self._started_at is None:
            if not self._start_requested:
                return []
            self._started_at = sim_time_s
        elapsed_ns = (sim_time_s - self._started_at) * 1e9
        out: list[OutFrame] = []
        budget = self.max_frames_per_poll
        while budget > 0:
            frame = self._peek()
            if frame is None:
                self.finished = True
                logger.info("replay finished after %d frames", self.frames_replayed)
                break
            if self._base_ns is None:
                self._base_ns = frame.ts_recv_ns
            if self.speed is not None and (frame.ts_recv_ns - self._base_ns) / self.speed > elapsed_ns:
                break
            self._next = None
            self.frames_replayed += 1
            budget -= 1
            out.extend(self.convert(frame))
        return out

    def start(self) -> None:
        """Start the clock now (instead of waiting for the first subscription)."""
        self._start_requested = True

    # --- BookSource -----------------------------------------------------------------------------

    def is_known(self, asset_id: str) -> bool:
        # A subscription is the cue that a client is ready: start the replay clock.
        self._start_requested = True
        return asset_id in self._books

    def book_event(self, asset_id: str) -> dict[str, Any] | None:
        book = self._books.get(asset_id)
        if book is None:
            return None
        bids, asks = book.levels()
        body: dict[str, Any] = {
            "event_type": "book",
            "asset_id": asset_id,
            "market": book.market,
            "bids": bids,
            "asks": asks,
            "timestamp": book.timestamp,
            "hash": "",
            "tick_size": book.tick_size,
            "last_trade_price": book.last_trade,
        }
        body["hash"] = book_hash(body)
        return body

    def rest_book(self, asset_id: str) -> dict[str, Any] | None:
        book = self._books.get(asset_id)
        if book is None:
            return None
        bids, asks = book.levels()
        body: dict[str, Any] = {
            "market": book.market,
            "asset_id": asset_id,
            "timestamp": book.timestamp,
            "hash": "",
            "bids": bids,
            "asks": asks,
            "min_order_size": book.min_order_size,
            "tick_size": book.tick_size,
            "neg_risk": False,
            "last_trade_price": book.last_trade,
        }
        body["hash"] = book_hash(body)
        return body

    # --- conversion -----------------------------------------------------------------------------

    def _peek(self) -> RawFrame | None:
        if self._next is None:
            self._next = next(self._frames, None)
        return self._next

    def convert(self, frame: RawFrame) -> list[OutFrame]:
        """OutFrames for one recorded frame (and update the replayed books)."""
        text = frame.text()
        try:
            value = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return []  # non-JSON control text (INVALID OPERATION ...): nothing to replay
        if frame.channel == "rtds":
            items = value if isinstance(value, list) else [value]
            return [
                OutFrame(
                    channel="rtds",
                    text=text if len(items) == 1 else dumps(item),
                    topic=str(item.get("topic", "")),
                    event_type=str(item.get("type", "")),
                )
                for item in items
                if isinstance(item, dict)
            ]
        channel: Literal["market", "user"] = "user" if frame.channel == "user" else "market"
        items = value if isinstance(value, list) else [value]
        out: list[OutFrame] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            event_type = str(item.get("event_type", ""))
            if channel == "market":
                self._apply(event_type, item)
            out.append(
                OutFrame(
                    channel=channel,
                    text=text if not isinstance(value, list) else dumps(item),
                    asset_ids=_asset_ids(item),
                    market=str(item.get("market", "")),
                    audience=_AUDIENCE.get(event_type, "assets"),
                    event_type=event_type,
                )
            )
        return out

    def _apply(self, event_type: str, item: dict[str, Any]) -> None:
        if event_type == "book":
            asset = str(item.get("asset_id", ""))
            book = _WireBook(str(item.get("market", "")))
            book.bids = {str(lv["price"]): str(lv["size"]) for lv in item.get("bids") or () if isinstance(lv, dict)}
            book.asks = {str(lv["price"]): str(lv["size"]) for lv in item.get("asks") or () if isinstance(lv, dict)}
            book.tick_size = str(item.get("tick_size") or "0.01")
            book.min_order_size = str(item.get("min_order_size") or "5")
            book.last_trade = str(item.get("last_trade_price") or "")
            book.timestamp = str(item.get("timestamp", "0"))
            self._books[asset] = book
        elif event_type == "price_change":
            changes = item.get("price_changes")
            if not isinstance(changes, list):  # legacy schema: one token at top level
                changes = [{**c, "asset_id": item.get("asset_id")} for c in item.get("changes") or ()]
            for change in changes:
                found = self._books.get(str(change.get("asset_id")))
                if found is None:
                    continue
                book = found
                side = book.bids if change.get("side") == "BUY" else book.asks
                price, size = str(change.get("price")), str(change.get("size"))
                if _dec(size) == 0:
                    side.pop(price, None)
                else:
                    side[price] = size
                book.timestamp = str(item.get("timestamp", book.timestamp))
        elif event_type == "tick_size_change":
            ticked = self._books.get(str(item.get("asset_id")))
            if ticked is not None:
                ticked.tick_size = str(item.get("new_tick_size") or ticked.tick_size)
        elif event_type == "last_trade_price":
            traded = self._books.get(str(item.get("asset_id")))
            if traded is not None:
                traded.last_trade = str(item.get("price") or traded.last_trade)


def _asset_ids(item: dict[str, Any]) -> tuple[str, ...]:
    if "asset_id" in item:
        return (str(item["asset_id"]),)
    changes = item.get("price_changes")
    if isinstance(changes, list):
        return tuple(dict.fromkeys(str(c.get("asset_id")) for c in changes if isinstance(c, dict)))
    assets = item.get("assets_ids")
    if isinstance(assets, list):
        return tuple(str(a) for a in assets)
    return ()


def parse_speed(text: str | float | None) -> float | None:
    """``--speed`` value: a positive multiplier, or ``max``/``0`` for as fast as possible (None)."""
    if text is None:
        return 1.0
    if isinstance(text, str) and text.strip().lower() in {"max", "fast", "asap", "0"}:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:
        raise ConfigError("--speed", f"must be a positive number or 'max', not {text!r}")
    return None if value == 0 else value


def replay_simulator(path: Path | str, *, speed: float | None = 1.0, seed: int = 1) -> Simulator:
    """A :class:`Simulator` serving ``path`` on its market socket (no random walk, no RTDS generator).

    The market model (seed ``seed``) still backs Gamma: a recording made from the simulator with the same
    seed gets matching market metadata.
    """
    from .config import SimulatorConfig
    from .runtime import Simulator

    config = SimulatorConfig(seed=seed, rate_per_s=0.0, rtds_rate_per_s=0.0, resolve_after_s=None)
    return Simulator(config, source=ReplaySource(path, speed=speed))
