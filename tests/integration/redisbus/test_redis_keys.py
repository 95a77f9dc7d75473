"""Pure parts of the Redis bus: key layout, stream ids, reply shapes, URL display (no server needed)."""

from __future__ import annotations

from decimal import Decimal

from polymarket_realtime.feed.desired import Interest
from polymarket_realtime.model.events import BookSnapshot, FeedStatus, NewMarket, UserTrade
from polymarket_realtime.redisbus.keys import Keys, status_copy_for, stream_kind_of
from polymarket_realtime.redisbus.streams import id_gt, parse_id, safe_url, xread_pairs
from polymarket_realtime.secrets import Secret, redactor

TOKEN = "123456789"
MKT = "0x" + "ef" * 32


def test_stream_for_each_kind_of_event() -> None:
    keys = Keys("p:")
    snap = BookSnapshot(asset_id=TOKEN, market=MKT, bids=(), asks=())
    new = NewMarket(market=MKT, market_id="1", question="q", slug="s", asset_ids=(TOKEN,), outcomes=("Y",))
    trade = UserTrade(
        trade_id="t", market=MKT, asset_id=TOKEN, side="BUY", price=Decimal(1), size=Decimal(1), status="x"
    )
    status = FeedStatus(channel="market", connection_id="market-0", state="stale", asset_ids=(TOKEN, "9"))
    assert keys.stream_for(snap) == f"p:stream:asset:{TOKEN}"
    assert keys.stream_for(new) == "p:stream:market_events"
    assert keys.stream_for(trade) == "p:stream:user"
    assert keys.stream_for(status) == "p:stream:status"
    assert stream_kind_of(snap) == "asset" and keys.asset_of_stream(keys.stream_for(snap)) == TOKEN
    assert keys.asset_of_stream("p:stream:user") is None
    copy = status_copy_for(status, "9")
    assert copy.asset_ids == ("9",) and copy.state == "stale" and copy.connection_id == "market-0"


def test_stream_ids_compare_numerically() -> None:
    assert parse_id("1700000000000-12") == (1700000000000, 12)
    assert id_gt("10-0", "9-99") and id_gt("5-10", "5-9") and not id_gt("5-1", "5-1")


def test_xread_reply_shapes() -> None:
    resp2 = [[b"s", [(b"1-0", {b"e": b"x"})]]]
    resp3 = {b"s": [[(b"1-0", {b"e": b"x"})]]}
    expected = [("s", [("1-0", {b"e": b"x"})])]
    assert xread_pairs(resp2) == expected and xread_pairs(resp3) == expected and xread_pairs(None) == []


def test_safe_url_hides_credentials_and_survives_redaction() -> None:
    url = "rediss://admin:hunter2-long-password@cache.example.com:6380/0"
    Secret(url)
    shown = safe_url(url)
    assert shown == "rediss cache.example.com:6380"
    assert "hunter2" not in shown and redactor.scrub(shown) == shown
    assert safe_url("unix:///run/redis.sock") == "unix /run/redis.sock"


def test_interest_union() -> None:
    a = Interest(assets=frozenset({"1"}), rtds=frozenset({("comments", "*")}))
    b = Interest(assets=frozenset({"2"}), market_events=True, user_all=True)
    u = a.union(b)
    assert u.assets == {"1", "2"} and u.market_events and u.user_all and u.rtds == {("comments", "*")}
    assert Interest().empty and not u.empty


def test_wants_are_reference_counted() -> None:
    import pytest

    from polymarket_realtime.errors import InvalidInputError
    from polymarket_realtime.feed.desired import DesiredSubscriptions

    w = DesiredSubscriptions()
    assert w.add_assets(["1", "2", "1"]) == ["1", "2"]
    assert w.add_assets(["1"]) == []
    assert w.remove_assets(["1"]) == [] and w.remove_assets(["1", "9"]) == ["1"]
    assert w.interest().assets == {"2"}
    assert w.add_market_events() and not w.add_market_events()
    assert not w.remove_market_events() and w.remove_market_events() and not w.remove_market_events()
    assert w.add_rtds("comments", "*") and not w.add_rtds("comments", "*")
    assert not w.remove_rtds("comments", "*") and w.remove_rtds("comments", "*")
    assert w.add_user([]) and w.add_user([MKT]) and not w.add_user([MKT])
    assert w.interest().user_all and w.wants_user
    assert w.remove_user([]) and not w.remove_user([MKT]) and w.remove_user([MKT]) and not w.wants_user
    with pytest.raises(InvalidInputError, match="not a token id"):
        w.add_assets(["0xabc"])
