"""Pure wire -> :mod:`model.events` conversion for the market, user and RTDS sockets.

Over 400 lines: one converter per market/user wire event behind two dispatchers, kept together so the
mapping from wire structs (schemas.py) to model events reads in one place; RTDS is in rtds_parsing.py.

Contract
--------
* ``parse_*_frame(data, ts_recv_ns)`` takes one WebSocket text (or binary) frame and returns a
  :class:`ParsedFrame`. It never raises on bad input: a frame that is not valid JSON counts as one
  malformed message; inside a JSON array, each bad element counts once and the good ones are kept.
* A frame is a JSON object or array (the initial dump is an array, unknown tokens yield a bare
  ``[]``). Plain-text frames become ``control``: ``"pong"`` (any case), ``"invalid_operation"``,
  ``"empty"`` (empty/whitespace frames and ``[]``) or ``"other"``; the caller logs and skips them.
* An unknown ``event_type`` (RTDS: unknown ``topic``) is skipped and counted, and its name reported,
  because the venue adds event types over time.
* The frame is decoded once, in C, into the typed structs of :mod:`.schemas`; the per-element fallback
  runs only when that fails, so the common path stays fast.
* Book levels come out best-first whatever the wire order (the venue sends bids ascending and asks
  descending, best LAST). A ``price_change`` becomes one :class:`PriceChange` per token.
* Non-finite or negative prices/sizes make the message malformed: a NaN must never reach a book.
* User-channel ``owner``/``trade_owner``/``order_owner`` (the user's API key) are dropped.
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from sys import intern
from typing import overload

import msgspec

from polymarket_realtime.model.events import (
    BestBidAsk,
    BookSnapshot,
    Event,
    LastTrade,
    Level,
    LevelChange,
    MakerOrder,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    UserOrder,
    UserTrade,
)

from ...model.timeunits import parse_ts_ms
from . import schemas as w
from .frames import (
    CONVERT_ERRORS,
    PROBE,
    BadValue,
    Control,
    ParsedFrame,
    check_level,
    control_frame,
    opt_dec,
    parse_side,
    price_of,
    split_raw,
)
from .rtds_parsing import parse_rtds_frame

__all__ = [
    "Control",
    "MarketFrame",
    "ParsedFrame",
    "parse_market_frame",
    "parse_rtds_frame",
    "parse_user_frame",
    "user_event",
]

MarketFrame = ParsedFrame
"""Name used in docs/architecture.md."""

_PRICE = attrgetter("price")
_ZERO = Decimal(0)


# --- market channel -------------------------------------------------------------------------


def _levels(wire: list[w.WireLevel] | tuple[()], best_high: bool) -> tuple[Level, ...]:
    levels = []
    for level in wire:
        price = price_of(level.price)
        check_level(price, level.size)
        levels.append(Level(price, level.size))
    # Venue order is worst-first; Timsort makes the re-sort of an already-reversed run O(n).
    levels.sort(key=_PRICE, reverse=best_high)
    return tuple(levels)


def _book(m: w.WireBook, ts: int, out: list[Event]) -> None:
    out.append(
        BookSnapshot(
            asset_id=intern(m.asset_id),
            market=intern(m.market),
            bids=_levels(m.bids or (), True),
            asks=_levels(m.asks or (), False),
            hash=m.hash,
            tick_size=opt_dec(m.tick_size),
            min_order_size=opt_dec(m.min_order_size),
            last_trade_price=opt_dec(m.last_trade_price),
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _price_change(m: w.WirePriceChange, ts: int, out: list[Event]) -> None:
    ts_ms = parse_ts_ms(m.timestamp)
    items = m.price_changes
    if items is not None:
        if not items:
            raise BadValue("price_change with an empty price_changes list")
        # asset_id -> (its changes, its last wire item: that one carries the token's top of book)
        groups: dict[str, tuple[list[LevelChange], list[w.WirePriceChangeItem]]] = {}
        for item in items:
            price = price_of(item.price)
            check_level(price, item.size)
            group = groups.get(item.asset_id)
            if group is None:
                groups[item.asset_id] = ([LevelChange(item.side, price, item.size)], [item])
            else:
                group[0].append(LevelChange(item.side, price, item.size))
                group[1][0] = item
        # Interned ids: every buffered event shares one copy of its ~77-char token id and ~66-char
        # condition id instead of a fresh string per event (about 240 bytes saved per event).
        market = intern(m.market)
        for asset_id, (changes, (last,)) in groups.items():
            out.append(
                PriceChange(
                    asset_id=intern(asset_id),
                    market=market,
                    changes=tuple(changes),
                    best_bid=opt_dec(last.best_bid),
                    best_ask=opt_dec(last.best_ask),
                    ts_event_ms=ts_ms,
                    ts_recv_ns=ts,
                )
            )
        return
    if not m.asset_id:
        raise BadValue("price_change without asset_id")
    if m.changes is not None:  # legacy schema (before 2025-09-15)
        for c in m.changes:
            check_level(c.price, c.size)
        legacy = tuple(LevelChange(c.side, c.price, c.size) for c in m.changes)
    elif m.price is not None and m.size is not None and m.side is not None:  # flat 2024 form
        check_level(m.price, m.size)
        legacy = (LevelChange(m.side, m.price, m.size),)
    else:
        raise BadValue("price_change without changes")
    out.append(
        PriceChange(
            asset_id=intern(m.asset_id), market=intern(m.market), changes=legacy, ts_event_ms=ts_ms, ts_recv_ns=ts
        )
    )


def _tick_size(m: w.WireTickSizeChange, ts: int, out: list[Event]) -> None:
    if not m.new_tick_size.is_finite() or m.new_tick_size <= _ZERO:
        raise BadValue("bad tick size")
    out.append(
        TickSizeChange(
            asset_id=intern(m.asset_id),
            market=intern(m.market),
            old_tick_size=opt_dec(m.old_tick_size),
            new_tick_size=m.new_tick_size,
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _last_trade(m: w.WireLastTradePrice, ts: int, out: list[Event]) -> None:
    check_level(m.price, m.size)
    out.append(
        LastTrade(
            asset_id=intern(m.asset_id),
            market=intern(m.market),
            price=m.price,
            size=m.size,
            side=parse_side(m.side),
            fee_rate_bps=opt_dec(m.fee_rate_bps),
            transaction_hash=m.transaction_hash or "",
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _best_bid_ask(m: w.WireBestBidAsk, ts: int, out: list[Event]) -> None:
    out.append(
        BestBidAsk(
            asset_id=intern(m.asset_id),
            market=intern(m.market),
            best_bid=opt_dec(m.best_bid),
            best_ask=opt_dec(m.best_ask),
            spread=opt_dec(m.spread),
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _new_market(m: w.WireNewMarket, ts: int, out: list[Event]) -> None:
    out.append(
        NewMarket(
            market=intern(m.market),
            market_id=str(m.id),
            question=m.question,
            slug=m.slug,
            asset_ids=tuple(m.assets_ids or ()),
            outcomes=tuple(m.outcomes or ()),
            tick_size=opt_dec(m.order_price_min_tick_size),
            active=m.active,
            tags=tuple(m.tags or ()),
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _market_resolved(m: w.WireMarketResolved, ts: int, out: list[Event]) -> None:
    out.append(
        MarketResolved(
            market=intern(m.market),
            market_id=str(m.id),
            asset_ids=tuple(m.assets_ids or ()),
            winning_asset_id=m.winning_asset_id,
            winning_outcome=m.winning_outcome,
            ts_event_ms=parse_ts_ms(m.timestamp),
            ts_recv_ns=ts,
        )
    )


def _market(m: w.WireMarketMessage, ts: int, out: list[Event]) -> None:
    # Ordered by frequency: price changes dominate live traffic.
    if type(m) is w.WirePriceChange:
        _price_change(m, ts, out)
    elif type(m) is w.WireBook:
        _book(m, ts, out)
    elif type(m) is w.WireLastTradePrice:
        _last_trade(m, ts, out)
    elif type(m) is w.WireBestBidAsk:
        _best_bid_ask(m, ts, out)
    elif type(m) is w.WireTickSizeChange:
        _tick_size(m, ts, out)
    elif type(m) is w.WireNewMarket:
        _new_market(m, ts, out)
    elif type(m) is w.WireMarketResolved:
        _market_resolved(m, ts, out)


# --- user channel ---------------------------------------------------------------------------


@overload
def user_event(m: w.WireOrder, ts_recv_ns: int) -> UserOrder: ...
@overload
def user_event(m: w.WireTrade, ts_recv_ns: int) -> UserTrade: ...
def user_event(m: w.WireUserMessage, ts_recv_ns: int) -> UserOrder | UserTrade:
    """One user-channel struct (from the socket or a REST row, ``user_rest.py``) as its event."""
    out: list[Event] = []
    _user(m, ts_recv_ns, out)
    event = out[0]
    assert isinstance(event, (UserOrder, UserTrade))  # _user appends exactly one
    return event


def _user(m: w.WireUserMessage, ts: int, out: list[Event]) -> None:
    if type(m) is w.WireOrder:
        out.append(
            UserOrder(
                order_id=m.id,
                market=intern(m.market),
                asset_id=intern(m.asset_id),
                action=m.type,
                side=m.side,
                price=m.price,
                original_size=m.original_size,
                size_matched=m.size_matched,
                status=m.status,
                outcome=m.outcome,
                order_type=m.order_type,
                created_at_ms=parse_ts_ms(m.created_at),
                ts_event_ms=parse_ts_ms(m.timestamp),
                ts_recv_ns=ts,
            )
        )
    elif type(m) is w.WireTrade:
        makers = tuple(
            MakerOrder(
                order_id=mo.order_id,
                asset_id=mo.asset_id,
                matched_amount=mo.matched_amount,
                price=mo.price,
                outcome=mo.outcome,
                side=mo.side,
                fee_rate_bps=opt_dec(mo.fee_rate_bps),
            )
            for mo in (m.maker_orders or ())
        )
        match_time = m.match_time if m.match_time is not None else m.matchtime
        out.append(
            UserTrade(
                trade_id=m.id,
                market=intern(m.market),
                asset_id=intern(m.asset_id),
                side=m.side,
                price=m.price,
                size=m.size,
                status=m.status,
                trader_side=m.trader_side,
                outcome=m.outcome,
                fee_rate_bps=opt_dec(m.fee_rate_bps),
                match_time_ms=parse_ts_ms(match_time),
                last_update_ms=parse_ts_ms(m.last_update),
                transaction_hash=m.transaction_hash or "",
                taker_order_id=m.taker_order_id,
                maker_orders=makers,
                ts_event_ms=parse_ts_ms(m.timestamp),
                ts_recv_ns=ts,
            )
        )


# --- shared driver for the two CLOB channels ------------------------------------------------

_MARKET_DECODER = msgspec.json.Decoder(w.WireMarketMessage | list[w.WireMarketMessage])
_MARKET_ELEMENT = msgspec.json.Decoder(w.WireMarketMessage)
_USER_DECODER = msgspec.json.Decoder(w.WireUserMessage | list[w.WireUserMessage])
_USER_ELEMENT = msgspec.json.Decoder(w.WireUserMessage)


def _slow_clob(
    data: str | bytes,
    ts: int,
    element: msgspec.json.Decoder[w.WireMarketMessage] | msgspec.json.Decoder[w.WireUserMessage],
    known: frozenset[str],
) -> ParsedFrame:
    raws = split_raw(data)
    if raws is None:
        return ParsedFrame([], None, 1)
    events: list[Event] = []
    malformed = unknown = 0
    unknown_types: list[str] = []
    for raw in raws:
        try:
            msg = element.decode(raw)
        except msgspec.DecodeError:
            try:
                event_type = PROBE.decode(raw).event_type
            except msgspec.DecodeError:
                event_type = None
            if event_type is not None and event_type not in known:
                unknown += 1
                unknown_types.append(event_type)
            else:
                malformed += 1
            continue
        try:
            if isinstance(msg, (w.WireOrder, w.WireTrade)):
                _user(msg, ts, events)
            else:
                _market(msg, ts, events)
        except CONVERT_ERRORS:
            malformed += 1
    control: Control | None = "empty" if not raws and not events else None
    return ParsedFrame(events, control, malformed, unknown, tuple(unknown_types))


def parse_market_frame(data: str | bytes, ts_recv_ns: int) -> ParsedFrame:
    """Parse one market-channel frame (docs/polymarket-protocol.md#market-channel). Never raises on bad input."""
    control = control_frame(data)
    if control is not None:
        return control
    try:
        decoded = _MARKET_DECODER.decode(data)
    except msgspec.DecodeError:
        return _slow_clob(data, ts_recv_ns, _MARKET_ELEMENT, w.MARKET_EVENT_TYPES)
    events: list[Event] = []
    malformed = 0
    if isinstance(decoded, list):
        if not decoded:
            return ParsedFrame(events, "empty")
        for msg in decoded:
            try:
                _market(msg, ts_recv_ns, events)
            except CONVERT_ERRORS:
                malformed += 1
    else:
        try:
            _market(decoded, ts_recv_ns, events)
        except CONVERT_ERRORS:
            malformed = 1
    return ParsedFrame(events, None, malformed)


def parse_user_frame(data: str | bytes, ts_recv_ns: int) -> ParsedFrame:
    """Parse one user-channel frame (docs/polymarket-protocol.md#user-order-event, #user-trade-status): ``order`` and
    ``trade`` events."""
    control = control_frame(data)
    if control is not None:
        return control
    try:
        decoded = _USER_DECODER.decode(data)
    except msgspec.DecodeError:
        return _slow_clob(data, ts_recv_ns, _USER_ELEMENT, w.USER_EVENT_TYPES)
    messages = decoded if isinstance(decoded, list) else [decoded]
    if not messages:
        return ParsedFrame([], "empty")
    events: list[Event] = []
    malformed = 0
    for msg in messages:
        try:
            _user(msg, ts_recv_ns, events)
        except CONVERT_ERRORS:
            malformed += 1
    return ParsedFrame(events, None, malformed)
