"""Wire -> event parsing: every fixture kind, control frames, bad input, fuzz, round trips."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from polymarket_realtime.model.events import (
    BestBidAsk,
    BookSnapshot,
    Comment,
    CryptoPrice,
    EquityPrice,
    LastTrade,
    Level,
    LevelChange,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    UserOrder,
    UserTrade,
    decode_event,
    encode_event,
)
from polymarket_realtime.venues.polymarket.parsing import (
    ParsedFrame,
    parse_market_frame,
    parse_rtds_frame,
    parse_user_frame,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "polymarket"
TS = 1_700_000_000_123_456_789


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> str:
    return (FIXTURES / name).read_text()


def one(frame: ParsedFrame) -> Any:
    assert frame.malformed == 0 and frame.unknown == 0 and frame.control is None, frame
    assert len(frame.events) == 1, frame.events
    return frame.events[0]


# --- market channel fixtures ----------------------------------------------------------------


def test_book_is_best_first_whatever_the_wire_order() -> None:
    event = one(parse_market_frame(raw("market_book.json"), TS))
    assert isinstance(event, BookSnapshot)
    assert event.asset_id == load("market_book.json")["asset_id"]
    assert event.market.startswith("0x8a9f")
    # The venue sends best LAST: bids ascending, asks descending.
    assert event.bids == (Level(Decimal("0.02"), Decimal("133687")), Level(Decimal("0.01"), Decimal("112689")))
    assert event.asks == (Level(Decimal("0.98"), Decimal("25298")), Level(Decimal("0.99"), Decimal("37677.02")))
    assert event.tick_size == Decimal("0.01")
    assert str(event.last_trade_price) == "0.140"
    assert event.hash == "9e4f2ff8ba2be56177e8bdc8623dfaba4d18f5c8"
    assert event.ts_event_ms == 1790908667676
    assert event.ts_recv_ns == TS
    assert event.source == "ws"


def test_initial_dump_array_and_empty_last_trade_price() -> None:
    frame = parse_market_frame(raw("market_initial_dump.json").encode(), TS)
    assert frame.control is None and frame.malformed == 0
    assert [type(e) for e in frame.events] == [BookSnapshot, BookSnapshot]
    second = frame.events[1]
    assert isinstance(second, BookSnapshot)
    assert second.bids == () and second.last_trade_price is None
    assert all(e.ts_recv_ns == TS for e in frame.events)


def test_price_change_becomes_one_event_per_token() -> None:
    frame = parse_market_frame(raw("market_price_change.json"), TS)
    assert frame.malformed == 0 and len(frame.events) == 2
    first, second = frame.events
    assert isinstance(first, PriceChange) and isinstance(second, PriceChange)
    wire = load("market_price_change.json")
    assert first.asset_id == wire["price_changes"][0]["asset_id"]
    assert first.changes == (LevelChange("BUY", Decimal("0.5"), Decimal("200")),)
    assert (first.best_bid, first.best_ask) == (Decimal("0.5"), Decimal("1"))
    assert second.changes == (LevelChange("SELL", Decimal("0.5"), Decimal("200")),)
    assert (second.best_bid, second.best_ask) == (Decimal("0"), Decimal("0.5"))
    assert first.market == second.market == wire["market"]
    assert first.ts_event_ms == 1757908892351


def test_price_change_groups_changes_and_keeps_last_best() -> None:
    changes = [
        {"asset_id": "1", "price": "0.40", "size": "10", "side": "BUY", "best_bid": "0.40", "best_ask": "0.6"},
        {"asset_id": "2", "price": "0.55", "size": "0", "side": "SELL", "best_bid": "", "best_ask": ""},
        {"asset_id": "1", "price": "0.6", "size": "0", "side": "SELL", "best_bid": "0.40", "best_ask": "0.61"},
    ]
    frame = parse_market_frame(json.dumps({"event_type": "price_change", "market": "0xm", "price_changes": changes}), 1)
    assert [e.asset_id for e in frame.events] == ["1", "2"]  # type: ignore[union-attr]
    first, second = frame.events
    assert isinstance(first, PriceChange) and isinstance(second, PriceChange)
    assert len(first.changes) == 2 and first.changes[1] == LevelChange("SELL", Decimal("0.6"), Decimal("0"))
    assert first.best_ask == Decimal("0.61")
    assert second.best_bid is None and second.best_ask is None  # "" means no level


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("market_price_change_legacy.json", LevelChange("SELL", Decimal("0.4"), Decimal("3300"))),
        ("market_price_change_flat.json", LevelChange("BUY", Decimal("0.41"), Decimal("150.5"))),
    ],
)
def test_legacy_price_change_schemas(name: str, expected: LevelChange) -> None:
    event = one(parse_market_frame(raw(name), TS))
    assert isinstance(event, PriceChange)
    assert event.asset_id == load(name)["asset_id"]
    assert event.changes == (expected,)
    assert event.ts_event_ms == 1729084877448


def test_tick_size_change() -> None:
    event = one(parse_market_frame(raw("market_tick_size_change.json"), TS))
    assert isinstance(event, TickSizeChange)
    assert event.old_tick_size == Decimal("0.01") and event.new_tick_size == Decimal("0.001")


def test_last_trade_price_with_and_without_hash() -> None:
    event = one(parse_market_frame(raw("market_last_trade_price.json"), TS))
    assert isinstance(event, LastTrade)
    assert (event.price, event.size, event.side) == (Decimal("0.456"), Decimal("219.217767"), "BUY")
    assert event.fee_rate_bps == Decimal("0") and event.transaction_hash == "0xeeefffggghhh"
    wire = load("market_last_trade_price.json")
    del wire["transaction_hash"]
    event = one(parse_market_frame(json.dumps(wire), TS))
    assert isinstance(event, LastTrade) and event.transaction_hash == ""


def test_best_bid_ask_and_empty_sides() -> None:
    event = one(parse_market_frame(raw("market_best_bid_ask.json"), TS))
    assert isinstance(event, BestBidAsk)
    assert (event.best_bid, event.best_ask, event.spread) == (Decimal("0.73"), Decimal("0.77"), Decimal("0.04"))
    wire = load("market_best_bid_ask.json") | {"best_bid": "", "spread": ""}
    event = one(parse_market_frame(json.dumps(wire), TS))
    assert isinstance(event, BestBidAsk) and event.best_bid is None and event.spread is None
    assert event.best_ask == Decimal("0.77")


def test_new_market_and_market_resolved() -> None:
    new = one(parse_market_frame(raw("market_new_market.json"), TS))
    wire = load("market_new_market.json")
    assert isinstance(new, NewMarket)
    assert new.market_id == "1031769" and new.slug == wire["slug"] and new.question == wire["question"]
    assert new.asset_ids == tuple(wire["assets_ids"]) and new.outcomes == ("Yes", "No")
    assert new.tick_size == Decimal("0.01") and new.tags == ("stocks",) and new.active is True
    resolved = one(parse_market_frame(raw("market_market_resolved.json"), TS))
    assert isinstance(resolved, MarketResolved)
    assert resolved.winning_asset_id == wire["assets_ids"][0] and resolved.winning_outcome == "Yes"
    assert resolved.market_id == "1031769" and resolved.source == "ws"
    assert resolved.ts_event_ms == 1766790415550


# --- control frames and bad input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "control"),
    [
        ("PONG", "pong"),
        ("pong", "pong"),
        (b" Pong\n", "pong"),
        ("INVALID OPERATION", "invalid_operation"),
        (b"invalid operation", "invalid_operation"),
        ("[]", "empty"),
        (b" [ ] ", "empty"),
        ("", "empty"),
        ("  \n", "empty"),
        (b"", "empty"),
        ("hello there", "other"),
        ("invalid Subscription.Filters: value does not match regex", "other"),
    ],
)
def test_control_frames(data: str | bytes, control: str) -> None:
    for parse in (parse_market_frame, parse_user_frame, parse_rtds_frame):
        frame = parse(data, TS)
        assert frame.control == control and frame.events == [] and frame.malformed == 0


def test_malformed_json_counts_once() -> None:
    for data in ('{"event_type": "book", ', "[{]", b'{"event_type": "book"}', "[1, 2]"):
        frame = parse_market_frame(data, TS)
        assert frame.events == [] and frame.control is None
        assert frame.malformed == (2 if data == "[1, 2]" else 1), data


def test_unknown_event_type_is_skipped_and_named() -> None:
    frame = parse_market_frame('{"event_type": "brand_new_thing", "x": 1}', TS)
    assert frame.events == [] and frame.malformed == 0
    assert frame.unknown == 1 and frame.unknown_types == ("brand_new_thing",)


def test_array_keeps_good_elements_around_bad_ones() -> None:
    good = load("market_last_trade_price.json")
    bad_value = load("market_last_trade_price.json") | {"price": "NaN"}
    bad_shape = {"event_type": "book", "asset_id": 5}
    frame = parse_market_frame(json.dumps([good, {"event_type": "mystery"}, bad_value, bad_shape, good]), TS)
    assert [type(e) for e in frame.events] == [LastTrade, LastTrade]
    assert frame.malformed == 2 and frame.unknown == 1 and frame.unknown_types == ("mystery",)


@pytest.mark.parametrize(
    "change",
    [
        {"asset_id": "1", "price": "0.5", "size": "-1", "side": "BUY"},
        {"asset_id": "1", "price": "Infinity", "size": "1", "side": "BUY"},
        {"asset_id": "1", "price": "0.5", "size": "1", "side": "HOLD"},
        {"asset_id": "1", "price": "0.5", "size": "1", "side": "BUY", "best_bid": "abc"},
    ],
)
def test_bad_values_make_the_message_malformed(change: dict[str, str]) -> None:
    frame = parse_market_frame(json.dumps({"event_type": "price_change", "market": "0x", "price_changes": [change]}), 1)
    assert frame.events == [] and frame.malformed == 1


def test_price_change_without_any_changes_is_malformed() -> None:
    frame = parse_market_frame('{"event_type": "price_change", "market": "0x"}', 1)
    assert frame.events == [] and frame.malformed == 1


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_fuzz_never_raises(data: str | bytes) -> None:
    for parse in (parse_market_frame, parse_user_frame, parse_rtds_frame):
        frame = parse(data, 0)
        assert isinstance(frame, ParsedFrame)
        assert frame.unknown == len(frame.unknown_types)
        # Nothing vanishes silently: a frame yields events, a control kind, or a counted problem.
        assert frame.events or frame.control is not None or frame.malformed or frame.unknown


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["book", "price_change", "last_trade_price", "order", "trade", "crypto_prices", "comments"]),
    st.dictionaries(
        st.sampled_from(["asset_id", "market", "price", "size", "side", "bids", "price_changes", "payload", "id"]),
        _json_values,
        max_size=6,
    ),
)
def test_fuzz_structured_garbage_never_raises(kind: str, fields: dict[str, Any]) -> None:
    data = json.dumps({"event_type": kind, "topic": kind, **fields})
    for parse in (parse_market_frame, parse_user_frame, parse_rtds_frame):
        frame = parse(data, 0)
        assert len(frame.events) + frame.malformed + frame.unknown >= 1


# --- user channel ---------------------------------------------------------------------------


def test_user_order() -> None:
    event = one(parse_user_frame(raw("user_order.json"), TS))
    assert isinstance(event, UserOrder)
    assert event.action == "PLACEMENT" and event.side == "SELL" and event.status == "LIVE"
    assert (event.price, event.original_size, event.size_matched) == (Decimal("0.57"), Decimal("10"), Decimal("0"))
    assert event.created_at_ms == 1672290687000  # seconds on the wire
    assert event.ts_event_ms == 1672290687000
    assert event.order_type == "GTC" and event.outcome == "YES"


def test_user_trade_and_owner_fields_dropped() -> None:
    event = one(parse_user_frame(raw("user_trade.json"), TS))
    assert isinstance(event, UserTrade)
    assert event.trade_id == "28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e" and event.status == "MATCHED"
    assert event.match_time_ms == 1672290701000 and event.last_update_ms == 1672290701000
    assert event.trader_side == "TAKER" and event.size == Decimal("10")
    assert len(event.maker_orders) == 1 and event.maker_orders[0].matched_amount == Decimal("10")
    assert event.maker_orders[0].side == "SELL"
    encoded = encode_event(event).decode()
    assert "9180014b" not in encoded  # the API key (owner/trade_owner) never leaves the parser


def test_user_trade_legacy_matchtime_and_unknown_status() -> None:
    wire = load("user_trade.json")
    del wire["match_time"]
    wire |= {"matchtime": "1672290702123", "status": "SOMETHING_NEW"}
    event = one(parse_user_frame(json.dumps([wire]), TS))
    assert isinstance(event, UserTrade)
    assert event.match_time_ms == 1672290702123 and event.status == "SOMETHING_NEW"


def test_user_unknown_event_type() -> None:
    frame = parse_user_frame(json.dumps([load("user_order.json"), {"event_type": "balance"}]), TS)
    assert len(frame.events) == 1 and frame.unknown_types == ("balance",)


# --- RTDS -----------------------------------------------------------------------------------


def test_rtds_crypto_prices_exact_decimal() -> None:
    event = one(parse_rtds_frame(raw("rtds_crypto_prices.json"), TS))
    assert isinstance(event, CryptoPrice)
    assert event.value == Decimal("189.55") and str(event.value) == "189.55"
    assert (event.symbol, event.source, event.ts_event_ms) == ("solusdt", "binance", 1753314064213)


def test_rtds_chainlink_many_digits_stay_exact() -> None:
    event = one(parse_rtds_frame(raw("rtds_crypto_prices_chainlink.json").encode(), TS))
    assert isinstance(event, CryptoPrice) and event.source == "chainlink"
    assert str(event.value) == "3456.789012345678"


def test_rtds_equity_prefers_full_accuracy_value() -> None:
    event = one(parse_rtds_frame(raw("rtds_equity_prices.json"), TS))
    assert isinstance(event, EquityPrice)
    assert event.symbol == "AAPL" and event.value == Decimal("212.41035")


def test_rtds_snapshot_gives_one_event_per_point() -> None:
    frame = parse_rtds_frame(raw("rtds_equity_snapshot.json"), TS)
    assert [(e.value, e.ts_event_ms) for e in frame.events] == [  # type: ignore[union-attr]
        (Decimal("212.3"), 1753314060000),
        (Decimal("212.35"), 1753314061000),
    ]


def test_rtds_comments_and_reactions() -> None:
    comment = one(parse_rtds_frame(raw("rtds_comment_created.json"), TS))
    assert isinstance(comment, Comment)
    assert (comment.kind, comment.entity_type, comment.entity_id, comment.comment_id) == (
        "comment_created",
        "Event",
        "18396",
        "1763355",
    )
    assert comment.body == "YES is underpriced" and comment.ts_event_ms == 1753314064237
    reaction = one(parse_rtds_frame(raw("rtds_reaction_created.json"), TS))
    assert isinstance(reaction, Comment)
    assert reaction.kind == "reaction_created" and reaction.comment_id == "1763355"
    assert reaction.reaction_type == "HEART"


def test_rtds_array_unknown_topic_and_bad_payload() -> None:
    good = load("rtds_crypto_prices.json")
    frame = parse_rtds_frame(
        json.dumps([good, {"topic": "activity", "type": "trades", "payload": {}}, {"topic": "crypto_prices"}, good]),
        TS,
    )
    assert len(frame.events) == 2 and frame.unknown_types == ("activity",) and frame.malformed == 1


# --- timestamps and round trips -------------------------------------------------------------


def test_every_parsed_fixture_round_trips_through_encode_event() -> None:
    parsers = {"market": parse_market_frame, "user": parse_user_frame, "rtds": parse_rtds_frame}
    count = 0
    for path in sorted(FIXTURES.glob("*.json")):
        frame = parsers[path.name.split("_", 1)[0]](path.read_bytes(), TS)
        assert frame.events, path.name
        for event in frame.events:
            assert decode_event(encode_event(event)) == event
            count += 1
    assert count >= 20


def test_user_and_rtds_bad_input_counts() -> None:
    frame = parse_user_frame(json.dumps([load("user_order.json"), {"event_type": "order", "id": 1}, 7]), TS)
    assert len(frame.events) == 1 and frame.malformed == 2 and frame.unknown == 0
    assert parse_user_frame('{"event_type": "trade"', TS).malformed == 1
    assert parse_rtds_frame('{"topic": "crypto_prices", "payload": {', TS).malformed == 1
    frame = parse_rtds_frame(json.dumps([load("rtds_crypto_prices.json"), "text", {"topic": 5}]), TS)
    assert len(frame.events) == 1 and frame.malformed == 2
    bad_value = load("rtds_crypto_prices.json")
    bad_value["payload"]["value"] = "NaN"
    assert parse_rtds_frame(json.dumps(bad_value), TS).malformed == 1
    assert parse_rtds_frame("{}", TS).unknown_types == ("(no topic)",)


def test_lenient_fields_numeric_ids_lowercase_side_whitespace_json() -> None:
    wire = load("market_new_market.json") | {"id": 1031769}
    new = one(parse_market_frame(json.dumps(wire), TS))
    assert isinstance(new, NewMarket) and new.market_id == "1031769"
    trade = load("market_last_trade_price.json") | {"side": "sell"}
    event = one(parse_market_frame("  \n" + json.dumps(trade), TS))
    assert isinstance(event, LastTrade) and event.side == "SELL"
    trade["side"] = ""
    event = one(parse_market_frame(json.dumps(trade), TS))
    assert isinstance(event, LastTrade) and event.side is None


def test_null_lists_are_tolerated_as_empty() -> None:
    book = one(parse_market_frame(json.dumps(load("market_book.json") | {"bids": None, "asks": []}), TS))
    assert isinstance(book, BookSnapshot) and book.bids == () and book.asks == ()
    resolved = one(parse_market_frame(json.dumps(load("market_market_resolved.json") | {"assets_ids": None}), TS))
    assert isinstance(resolved, MarketResolved) and resolved.asset_ids == ()


def test_v2_book_with_extra_version_key_and_75_digit_asset() -> None:
    # As observed on a Protocol V2 canary market: padded 64-hex market, 75-digit id, undocumented "version".
    frame = {
        "event_type": "book",
        "market": "0x017791f201d5a788e0039e511fc1900e5f000000000000000000000000000000",
        "asset_id": "663574927012476832975694178961957910328055987427402067619466963999000625152",
        "timestamp": "1791238858575",
        "hash": "fc3846ca",
        "bids": [{"price": "0.40", "size": "10"}],
        "asks": [],
        "tick_size": "0.01",
        "last_trade_price": "",
        "version": "v2",
    }
    parsed = parse_market_frame(json.dumps(frame), TS)
    assert parsed.malformed == 0
    event = one(parsed)
    assert isinstance(event, BookSnapshot)
    assert event.asset_id == frame["asset_id"] and len(event.asset_id) == 75
    assert event.market == frame["market"] and event.bids == (Level(Decimal("0.40"), Decimal("10")),)
