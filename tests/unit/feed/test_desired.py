"""``DesiredSubscriptions``: the one ref-counted desired set both feed backends and the Redis lease use."""

from __future__ import annotations

import msgspec
import pytest

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.feed.desired import DesiredSubscriptions, Holders, Interest


def test_holders_count_first_in_and_last_out() -> None:
    h = Holders()
    assert not h and h.acquire() and not h.acquire() and h
    assert not h.release() and h.release() and not h.release()
    assert h.count == 0


def test_assets_are_validated_before_anything_changes() -> None:
    d = DesiredSubscriptions()
    with pytest.raises(InvalidInputError):
        d.add_assets(["1", "0xabc"])
    assert len(d.assets) == 0


def test_reference_and_user_transitions() -> None:
    d = DesiredSubscriptions()
    assert d.add_reference(["crypto:btcusd", "crypto:btcusd"]) == ["crypto:btcusd"]
    assert d.add_reference(["crypto:btcusd", "crypto:ethusd"]) == ["crypto:ethusd"]
    assert d.remove_reference(["crypto:btcusd"]) == []
    assert d.remove_reference(["crypto:btcusd", "crypto:ethusd", "unknown"]) == ["crypto:btcusd", "crypto:ethusd"]
    assert not d.wants_user
    assert d.add_user(["0x1"]) and d.wants_user and d.add_user([]) and not d.add_user([])
    assert not d.remove_user([]) and d.remove_user([]) and d.wants_user  # market 0x1 still held
    assert d.remove_user(["0x1"]) and not d.wants_user


def test_interest_is_the_lease_wire_value() -> None:
    d = DesiredSubscriptions()
    d.add_assets(["1", "2"])
    d.add_market_events()
    d.add_rtds("comments", "*")
    d.add_sports()
    interest = d.interest()
    assert interest == Interest(
        assets=frozenset({"1", "2"}), market_events=True, rtds=frozenset({("comments", "*")}), sports=True
    )
    assert msgspec.json.decode(msgspec.json.encode(interest), type=Interest) == interest
    assert d.summary()["assets"] == 2 and d.summary()["sports"] is True
