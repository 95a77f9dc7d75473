"""User REST rows parse into the same structs as the user socket's events (venues/polymarket/user_rest.py)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from polymarket_realtime.venues.polymarket.schemas import WireOrder, WireTrade
from polymarket_realtime.venues.polymarket.user_rest import order_from_row, trade_from_row

ORDER_ROW = {
    "id": "0xabc",
    "owner": "key",
    "market": "0x" + "1" * 64,
    "asset_id": "123",
    "side": "BUY",
    "outcome": "Yes",
    "original_size": "10",
    "size_matched": "2.50",
    "price": "0.50",
    "associate_trades": None,
    "created_at": "1757908892",
    "expiration": "0",
    "order_type": "GTC",
    "status": "LIVE",
}

TRADE_ROW = {
    "id": "t-1",
    "taker_order_id": "0xdef",
    "market": "0x" + "1" * 64,
    "asset_id": "123",
    "side": "SELL",
    "size": "4",
    "price": "0.52",
    "fee_rate_bps": "0",
    "status": "TRADE_STATUS_CONFIRMED",
    "match_time": "1757908899",
    "outcome": "Yes",
    "trader_side": "MAKER",
    "transaction_hash": None,
    "maker_orders": [],
}


def test_an_order_row_is_the_socket_order_struct() -> None:
    order = order_from_row(ORDER_ROW)
    assert isinstance(order, WireOrder)
    assert (order.id, order.price, order.size_matched) == ("0xabc", Decimal("0.50"), Decimal("2.50"))
    assert str(order.price) == "0.50"  # the venue's text survives
    assert order.expiration == "0" and order.created_at == "1757908892"


def test_order_row_aliases_and_defaults() -> None:
    row = {k: v for k, v in ORDER_ROW.items() if k not in ("id", "size_matched", "status")}
    order = order_from_row({**row, "order_id": "0xfeed", "outcome": None})
    assert (order.id, order.size_matched, order.status, order.outcome) == ("0xfeed", Decimal(0), "", "")


def test_a_trade_row_is_the_socket_trade_struct() -> None:
    trade = trade_from_row({**TRADE_ROW, "id": None, "trade_id": "t-2"})
    assert isinstance(trade, WireTrade)
    assert (trade.id, trade.size, trade.transaction_hash, trade.status) == (
        "t-2",
        Decimal(4),
        None,
        "TRADE_STATUS_CONFIRMED",
    )


def test_a_row_missing_a_required_field_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        order_from_row({k: v for k, v in ORDER_ROW.items() if k != "price"})


def test_an_order_status_with_the_rest_prefix_is_spelled_like_the_socket() -> None:
    assert order_from_row({**ORDER_ROW, "status": "ORDER_STATUS_LIVE"}).status == "LIVE"


def test_a_lowercase_side_and_a_null_market_are_tolerated_not_dropped() -> None:
    order = order_from_row({**ORDER_ROW, "side": "buy", "market": None})
    assert (order.side, order.market) == ("BUY", "")
    trade = trade_from_row({**TRADE_ROW, "side": "sell", "market": None})
    assert (trade.side, trade.market) == ("SELL", "")
