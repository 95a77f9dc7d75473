"""Pure engine tests: no event loop. Fills, partial fills, fees, validation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from polymarket_realtime.errors import InvalidInputError, StaleDataError
from polymarket_realtime.model.book import OrderBook
from polymarket_realtime.model.events import BookSnapshot, Level
from polymarket_realtime.paper import engine
from polymarket_realtime.paper.engine import FeeModel, FeeSchedule

TOKEN = "123"


def make_book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], *, tick: str = "0.01") -> OrderBook:
    book = OrderBook(TOKEN, "0xm")
    book.apply_snapshot(
        BookSnapshot(
            asset_id=TOKEN,
            market="0xm",
            bids=tuple(Level(D(p), D(s)) for p, s in bids),
            asks=tuple(Level(D(p), D(s)) for p, s in asks),
            tick_size=D(tick),
            min_order_size=D("5"),
            ts_recv_ns=1,
        )
    )
    return book


BOOK = make_book([("0.48", "100"), ("0.47", "200")], [("0.52", "50"), ("0.53", "100"), ("0.55", "10")])


def test_market_buy_walks_levels_and_reports_average() -> None:
    plan = engine.walk_book(BOOK.asks(), D("120"), side="BUY")
    assert plan.legs == ((D("0.52"), D("50")), (D("0.53"), D("70")))
    assert plan.size == D("120")
    assert plan.notional == D("26") + D("37.10")
    assert plan.average_price == (D("63.10") / D("120"))


def test_market_order_partial_when_depth_runs_out() -> None:
    plan = engine.walk_book(BOOK.asks(), D("1000"), side="BUY")
    assert plan.size == D("160")  # 50 + 100 + 10; remainder is the caller's to cancel


def test_market_sell_walks_bids() -> None:
    plan = engine.walk_book(BOOK.bids(), D("150"), side="SELL")
    assert plan.legs == ((D("0.48"), D("100")), (D("0.47"), D("50")))


def test_limit_walk_stops_at_price() -> None:
    plan = engine.walk_book(BOOK.asks(), D("200"), side="BUY", limit_price=D("0.53"))
    assert plan.size == D("150")
    sell = engine.walk_book(BOOK.bids(), D("500"), side="SELL", limit_price=D("0.48"))
    assert sell.size == D("100")


def test_resting_buy_fills_at_limit_when_book_crosses() -> None:
    crossed = make_book([("0.40", "10")], [("0.45", "30"), ("0.46", "100")])
    plan = engine.cross_resting(crossed, side="BUY", remaining=D("50"), limit_price=D("0.45"))
    assert plan.legs == ((D("0.45"), D("30")),)
    assert plan.liquidity == "maker"
    none = engine.cross_resting(crossed, side="BUY", remaining=D("50"), limit_price=D("0.44"))
    assert none.size == 0


def test_trade_through_fills_resting_order() -> None:
    plan = engine.cross_trade(
        side="SELL", remaining=D("20"), limit_price=D("0.60"), trade_price=D("0.61"), trade_size=D("5")
    )
    assert plan.legs == ((D("0.60"), D("5")),) and plan.liquidity == "maker"
    miss = engine.cross_trade(
        side="SELL", remaining=D("20"), limit_price=D("0.60"), trade_price=D("0.59"), trade_size=D("5")
    )
    assert miss.size == 0


def test_fee_bps_of_notional() -> None:
    assert FeeModel(fee_bps=D("50")).fee(D("0.5"), D("100"), "taker") == D("0.25")
    assert FeeModel().fee(D("0.5"), D("100"), "taker") == 0


def test_fee_schedule_curve_takers_only() -> None:
    model = FeeModel(fee_bps=D("999"), schedule=FeeSchedule(rate=D("0.07"), exponent=1))
    # 100 * 0.07 * (0.5 * 0.5) = 1.75; the schedule wins over fee_bps.
    assert model.fee(D("0.5"), D("100"), "taker") == D("1.75")
    assert model.fee(D("0.5"), D("100"), "maker") == 0
    # Floored to 5 decimals like the venue.
    assert model.fee(D("0.33"), D("1"), "taker") == D("0.01547")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": D("0")}, InvalidInputError, "positive"),
        ({"size": D("-3")}, InvalidInputError, "positive"),
        ({"size": D("2")}, InvalidInputError, "minimum order size 5"),
        ({"order_type": "limit", "limit_price": D("1.2")}, InvalidInputError, "outside"),
        ({"order_type": "limit", "limit_price": D("0")}, InvalidInputError, "outside"),
        ({"order_type": "limit", "limit_price": D("0.505")}, InvalidInputError, "tick size 0.01"),
        ({"order_type": "limit"}, InvalidInputError, "needs limit_price"),
        ({"limit_price": D("0.5")}, InvalidInputError, "takes no limit_price"),
        ({"side": "HOLD"}, InvalidInputError, "BUY"),
    ],
)
def test_validation_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"side": "BUY", "size": D("10"), "order_type": "market", "limit_price": None}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        engine.validate_order(BOOK, token_id=TOKEN, **args)  # type: ignore[arg-type]


def test_fail_closed_on_unknown_or_stale_book() -> None:
    with pytest.raises(StaleDataError, match="No live book"):
        engine.validate_order(None, token_id=TOKEN, side="BUY", size=D("10"), order_type="market", limit_price=None)
    stale = make_book([("0.4", "1")], [("0.6", "1")])
    stale.mark_stale("socket closed")
    with pytest.raises(StaleDataError, match="stale"):
        engine.validate_order(stale, token_id=TOKEN, side="BUY", size=D("10"), order_type="market", limit_price=None)


def test_fee_reserve_is_the_worst_case_of_maker_and_taker() -> None:
    flat = FeeModel(fee_bps=D("1000"))
    # fee_bps applies to maker and taker fills alike, so the reserve equals either.
    assert flat.fee(D("0.5"), D("200"), "maker") == flat.fee(D("0.5"), D("200"), "taker") == D("10")
    assert flat.reserve(D("0.5"), D("200")) == D("10")
    curve = FeeModel(schedule=FeeSchedule(rate=D("0.07")))  # taker_only by default
    assert curve.fee(D("0.5"), D("100"), "maker") == 0
    assert curve.reserve(D("0.5"), D("100")) == curve.fee(D("0.5"), D("100"), "taker") == D("1.75")
    both = FeeModel(schedule=FeeSchedule(rate=D("0.07"), taker_only=False))
    assert both.fee(D("0.5"), D("100"), "maker") == D("1.75")
    # Split fills never cost more than the reserve (fees are linear and floored per fill).
    parts = sum((flat.fee(D("0.37"), D("3.33333"), "maker") for _ in range(3)), D(0))
    assert parts <= flat.reserve(D("0.37"), D("9.99999"))


def test_priority_is_best_price_then_oldest() -> None:
    from polymarket_realtime.model.paper_records import OrderRecord

    def order(oid: str, side: str, price: str, ts: int) -> OrderRecord:
        z = D(0)
        return OrderRecord(oid, "s", "t", side, "limit", D(10), D(price), z, z, z, 0, "open", "", ts, ts)

    orders = [order("b1", "BUY", "0.50", 1), order("b2", "BUY", "0.51", 2), order("b3", "BUY", "0.50", 0)]
    orders += [order("s1", "SELL", "0.60", 1), order("s2", "SELL", "0.59", 2)]
    assert [o.id for o in engine.priority(orders)] == ["b2", "b3", "b1", "s2", "s1"]
