"""Pure agent logic: mean reversion decisions, scanner scoring and weights, fee schedule from Gamma."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from polymarket_realtime.agents.scanner import BUILTIN_PRESETS, score_tokens, validate_weights
from polymarket_realtime.agents.strategy import MeanReversion, Observation
from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.model.book import OrderBook
from polymarket_realtime.model.events import BookSnapshot, Level
from polymarket_realtime.paper.engine import FeeSchedule
from polymarket_realtime.paper.session import fee_schedule_of
from polymarket_realtime.venues.polymarket.gamma import parse_market


def _obs(mid: str, position: str = "0") -> Observation:
    m = D(mid)
    return Observation("t", m, m - D("0.01"), m + D("0.01"), D(position))


def test_mean_reversion_buys_dips_and_sells_rips() -> None:
    strat = MeanReversion(
        MeanReversion.parse_params({"window": 3, "threshold": "0.02", "order_size": "5", "cooldown": 1})
    )
    assert strat.decide(_obs("0.50")) is None
    assert strat.decide(_obs("0.50")) is None  # repeated mid ignored
    assert strat.decide(_obs("0.51")) is None  # window not full yet
    buy = strat.decide(_obs("0.46"))  # mean 0.49, 0.03 below
    assert buy is not None and buy.side == "BUY" and buy.size == 5
    assert strat.decide(_obs("0.40", "5")) is None  # cooldown
    sell = strat.decide(_obs("0.52", "5"))  # mean(0.46, 0.40, 0.52) = 0.46 -> 0.06 above
    assert sell is not None and sell.side == "SELL" and sell.size == 5
    assert strat.decide(_obs("0.60", "0")) is None  # cooldown again
    assert strat.decide(_obs("0.70", "0")) is None  # above mean but nothing held: never shorts


def test_mean_reversion_respects_max_position_and_params() -> None:
    strat = MeanReversion(
        MeanReversion.parse_params(
            {"window": 2, "threshold": "0.01", "order_size": "10", "max_position": "10", "cooldown": 0}
        )
    )
    strat.decide(_obs("0.50"))
    assert strat.decide(_obs("0.40", position="5")) is None  # 5 + 10 > max 10
    with pytest.raises(InvalidInputError, match="unknown mean_reversion params"):
        MeanReversion.parse_params({"windows": 3})
    with pytest.raises(InvalidInputError, match="threshold"):
        MeanReversion.parse_params({"threshold": "2"})


def _book(token: str, bid: str, ask: str, size: str) -> OrderBook:
    book = OrderBook(token, "m")
    book.apply_snapshot(
        BookSnapshot(asset_id=token, market="m", bids=(Level(D(bid), D(size)),), asks=(Level(D(ask), D(size)),))
    )
    return book


def test_scanner_scores_and_weights() -> None:
    books = {"a": _book("a", "0.49", "0.51", "10"), "b": _book("b", "0.40", "0.60", "1000")}
    mids = {"a": [D("0.5"), D("0.5")], "b": [D("0.4"), D("0.5"), D("0.45")]}
    liquidity = score_tokens(mids, books, BUILTIN_PRESETS["liquidity"], 5)
    # a: tightest spread (2 * 1), no depth, calm; b: deepest (2 * 1) but most volatile (-1 * 1).
    assert [(r["token_id"], r["score"]) for r in liquidity] == [("a", 2.0), ("b", 1.0)]
    tight = score_tokens(mids, books, validate_weights({"spread": 1}), 5)
    assert [r["token_id"] for r in tight] == ["a", "b"] and tight[0]["spread"] == "0.02"
    movers = score_tokens(mids, books, validate_weights({"momentum": 1, "volatility": 1}), 5)
    assert movers[0]["token_id"] == "b" and movers[0]["score"] == 2.0
    with pytest.raises(InvalidInputError, match="unknown weight"):
        validate_weights({"size": 1})
    with pytest.raises(InvalidInputError, match="-100, 100"):
        validate_weights({"depth": 1e9})


def test_fee_schedule_from_gamma_market() -> None:
    raw = {
        "id": "1",
        "conditionId": "0xc",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": '["11", "12"]',
        "feesEnabled": True,
        "feeSchedule": {"exponent": "1", "rate": "0.07", "taker_only": True},
    }
    assert fee_schedule_of(parse_market(raw)) == FeeSchedule(rate=D("0.07"), exponent=1)
    assert fee_schedule_of(parse_market({**raw, "feesEnabled": False})) is None
    assert fee_schedule_of(parse_market({k: v for k, v in raw.items() if k != "feeSchedule"})) is None


@pytest.mark.parametrize("repeat", ["no", "false", 0, 1, None, "yes"])
def test_price_alert_repeat_must_be_a_real_boolean(repeat: object) -> None:
    from polymarket_realtime.agents.price_alert import PriceAlertAgent

    base = {"token_id": "11", "condition": "above", "price": "0.5"}
    with pytest.raises(InvalidInputError, match="repeat must be true or false"):
        PriceAlertAgent.parse_config({**base, "repeat": repeat})
    assert PriceAlertAgent.parse_config({**base, "repeat": True})["repeat"] is True
    assert PriceAlertAgent.parse_config(base)["repeat"] is False


def test_fee_schedule_taker_only_flag_from_gamma() -> None:
    raw = {
        "id": "1",
        "conditionId": "0xc",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": '["11", "12"]',
        "feesEnabled": True,
        "feeSchedule": {"exponent": "2", "rate": "0.07", "taker_only": False},
    }
    both = fee_schedule_of(parse_market(raw))
    assert both == FeeSchedule(rate=D("0.07"), exponent=2, taker_only=False)
    unknown = fee_schedule_of(parse_market({**raw, "feeSchedule": {"rate": "0.07"}}))
    assert unknown == FeeSchedule(rate=D("0.07"), exponent=1, taker_only=True)  # the venue's default
