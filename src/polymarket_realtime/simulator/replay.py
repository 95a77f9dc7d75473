"""Replay a recording through the simulator's real sockets (an :class:`~.source.BookSource`).

Over 400 lines: the replay source (books rebuilt from recorded frames, pacing, subscriptions) and the
recorded Gamma answers it pairs with, both read from one recording.

Contract:

* Frames come out in file order, paced by their recorded receive times: ``speed=1`` is real time,
  ``speed=N`` N times faster, ``speed=None`` as fast as possible (at most ``max_frames_per_poll`` per
  broadcast tick, so other connections and the REST server stay responsive).
* The clock starts at the first subscription on a channel the recording has (``start="first_subscribe"``,
  the default: market when the header lists tokens or markets, RTDS when it lists RTDS topics, any
  channel when it lists neither), so a client that connects after start-up still sees the recording
  from its first frame; or at once (``start="immediately"``).
* Subscriptions are honoured by the simulator's router: each recorded market frame becomes one
  :class:`~.wire.OutFrame` per event object (an array frame is split), keyed by its token ids, so a
  connection receives only the tokens it subscribed to. A single-object frame is sent exactly as
  recorded. ``price_change`` frames keep both tokens of a market, as the venue does.
* The source keeps the books it has replayed so far (venue wire strings, no parsing into our model:
  the simulator stays independent of the client code) and answers initial dumps and ``GET /book``
  from them.
* A damaged recording replays its valid prefix; :attr:`ReplaySource.error` then holds the
  :class:`~polymarket_realtime.errors.RecordingError` naming the offset. A file whose header cannot be
  read raises that error from the constructor.
* Market metadata recorded in the header (``markets``) is served by the simulator's Gamma endpoints
  (:class:`RecordedGamma`) ahead of its random market model, so ``get_market``/``search_markets`` on a
  replay of a real recording describe the recorded markets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..errors import ConfigError, RecordingError
from ..recording.format import RawFrame, RecordingHeader
from ..recording.reader import RecordingReader
from .rest_server import HttpRequest, HttpResponse, json_response
from .wire import Audience, OutFrame, book_hash, dumps

if TYPE_CHECKING:
    from .runtime import Simulator

__all__ = ["RecordedGamma", "ReplaySource", "parse_speed", "replay_simulator"]

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
        start: ``first_subscribe`` (clock starts at the first subscription on a recorded channel, see
            :attr:`start_channels`) or ``immediately``.
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
        channels = set()
        if self.header.token_ids or self.header.market_ids:
            channels.add("market")
        if self.header.rtds:
            channels.add("rtds")
        if self.header.reference:
            channels.add("polybolt")
        if self.header.sports:
            channels.add("sports")
        self.start_channels: frozenset[str] = frozenset(channels or ("market", "rtds", "user", "polybolt", "sports"))
        """A subscription on one of these channels starts the clock (``first_subscribe``)."""
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

    def on_subscribe(self, channel: str) -> None:
        """Hook called by the websocket server on every subscription (any channel, with or without dump)."""
        if channel in self.start_channels:
            self._start_requested = True

    # --- BookSource -----------------------------------------------------------------------------

    def is_known(self, asset_id: str) -> bool:
        # A market subscription with a dump is the cue that a client is ready: start the replay clock.
        self.on_subscribe("market")
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
        if frame.channel == "polybolt":
            # Re-sequenced and re-snapshotted per connection by the simulated PolyBolt server.
            return [OutFrame(channel="polybolt", text=text)] if isinstance(value, dict) else []
        if frame.channel == "sports":
            # Game updates go to every sports connection as recorded (the socket has no subscriptions).
            return [OutFrame(channel="sports", text=text, event_type="sports")]
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
    """A :class:`Simulator` serving ``path`` on its sockets (no random walk, no RTDS or sports generator).

    Gamma answers from the recorded market metadata first (:class:`RecordedGamma`), then from the market
    model (seed ``seed``): a recording made from the simulator with the same seed gets matching metadata.

    Raises:
        RecordingError: the file is missing or its header is unreadable (names the file and offset).
    """
    from .config import SimulatorConfig
    from .gamma import set_gamma_override
    from .runtime import Simulator

    source = ReplaySource(path, speed=speed)
    config = SimulatorConfig(
        seed=seed,
        rate_per_s=0.0,
        rtds_rate_per_s=0.0,
        polybolt_rate_per_s=0.0,
        sports_rate_per_s=0.0,
        resolve_after_s=None,
    )
    sim = Simulator(config, source=source)
    sim.polybolt.seed_history = False  # snapshots hold recorded points only
    if source.markets:
        set_gamma_override(sim.model, RecordedGamma(source.markets))
    return sim


class RecordedGamma:
    """Gamma's market routes answered from recorded metadata (``MarketInfo.to_dict()`` dicts).

    Handles ``/markets/keyset`` and ``/markets`` (``id``, ``slug``, ``condition_ids``, ``clob_token_ids``
    filters; one page),
    ``/markets/slug/<slug>``, ``/markets/<id>`` and ``/public-search``; returns None (the caller falls back
    to the simulator's model) when no recorded market matches.
    """

    def __init__(self, markets: Sequence[dict[str, object]]) -> None:
        self.markets = [_gamma_market(m) for m in markets]

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        parts = [p for p in request.path.split("/") if p]
        found: list[dict[str, Any]]
        if parts in (["markets"], ["markets", "keyset"]):
            ids, slugs = set(request.args("id")), set(request.args("slug"))
            conditions = {c.lower() for c in request.args("condition_ids")}
            tokens = set(request.args("clob_token_ids"))
            found = [
                m
                for m in self.markets
                if (not ids or m["id"] in ids)
                and (not slugs or m["slug"] in slugs)
                and (not conditions or str(m["conditionId"]).lower() in conditions)
                and (not tokens or tokens.intersection(json.loads(m.get("clobTokenIds") or "[]")))
            ]
            closed = request.arg("closed")
            if closed:
                found = [m for m in found if m["closed"] == (closed.lower() in ("true", "1"))]
            if not found:
                return None
            return json_response({"markets": found} if parts[-1] == "keyset" else found)
        if len(parts) == 3 and parts[:2] == ["markets", "slug"]:
            found = [m for m in self.markets if m["slug"] == parts[2]]
        elif len(parts) == 2 and parts[0] == "markets":
            found = [m for m in self.markets if m["id"] == parts[1]]
        elif parts == ["public-search"]:
            words = [w for w in (request.arg("q") or "").lower().split() if w]
            hits = [m for m in self.markets if all(w in f"{m['question']} {m['slug']}".lower() for w in words)]
            if not hits:
                return None
            events = [{**m["events"][0], "title": m["question"], "markets": [m]} for m in hits]
            return json_response({"events": events, "tags": [], "profiles": [], "pagination": {"hasMore": False}})
        else:
            return None
        return json_response(found[0]) if found else None


def _gamma_market(info: dict[str, object]) -> dict[str, Any]:
    """A Gamma market object (JSON-encoded list fields, as Gamma sends them) from a MarketInfo dict."""
    raw_outcomes = info.get("outcomes")
    outcomes = [o for o in raw_outcomes if isinstance(o, dict)] if isinstance(raw_outcomes, list) else []

    def text(key: str) -> str | None:
        value = info.get(key)
        return None if value is None else str(value)

    v2 = info.get("version") == "v2"
    condition = text("condition_id") or ""
    ids = [str(o.get("token_id", "")) for o in outcomes]
    body: dict[str, Any] = {
        "id": text("market_id") or "",
        "question": text("question") or "",
        # Gamma shows a V2 condition id without its padding byte (the recording keeps the 64-hex form).
        "conditionId": condition[:-2] if v2 and len(condition) == 66 else condition,
        "slug": text("slug") or "",
        "endDate": text("end_date"),
        "outcomes": json.dumps([str(o.get("name", "")) for o in outcomes]),
        "outcomePrices": json.dumps([str(o.get("price") or "") for o in outcomes]),
        "clobTokenIds": None if v2 else json.dumps(ids),
        "version": text("version"),
        "positionIds": ids if v2 else None,
        "resolutionStatus": text("resolution_status"),
        "umaResolutionStatus": text("uma_resolution_status"),
        "active": bool(info.get("active", True)),
        "closed": bool(info.get("closed", False)),
        "volume": text("volume"),
        "liquidity": text("liquidity"),
        "orderPriceMinTickSize": text("tick_size"),
        "orderMinSize": text("min_order_size"),
        "negRisk": bool(info.get("neg_risk", False)),
        "bestBid": text("best_bid"),
        "bestAsk": text("best_ask"),
        "lastTradePrice": text("last_trade_price"),
        "events": [{"id": text("event_id") or "", "slug": text("event_slug") or ""}],
    }
    if info.get("accepting_orders") is not None:
        body["acceptingOrders"] = bool(info["accepting_orders"])
    if info.get("fees_enabled") is not None:
        body["feesEnabled"] = bool(info["fees_enabled"])
    if info.get("fee_rate") is not None:
        body["feeSchedule"] = {"rate": text("fee_rate"), "exponent": text("fee_exponent") or "1"}
    return {k: v for k, v in body.items() if v is not None}
