"""PolyBolt sans-I/O pieces: symbol catalog, frames, decoding, reconnect policy, seq tracking."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import msgspec
import pytest

from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.feed.backoff import Backoff
from polymarket_realtime.feed.polybolt_policy import SeqTracker, plan_reconnect
from polymarket_realtime.model.events import ReferencePrice, decode_event, encode_event
from polymarket_realtime.venues.polymarket import polybolt as pb


@pytest.mark.parametrize("raw", ["btcusd", "BTC", "btcusdt", "btc/usd", " BTC/USD ", "btc-usd"])
def test_old_spellings_normalize_to_the_polybolt_symbol(raw: str) -> None:
    assert pb.normalize_symbol(raw, "crypto") == "btcusd"


def test_unknown_symbol_lists_the_documented_ones() -> None:
    with pytest.raises(InvalidInputError) as info:
        pb.normalize_symbol("hypeusd", "crypto")  # a TWAP-only symbol: not on spot crypto
    assert "btcusd, ethusd, solusd, dogeusd, xrpusd, bnbusd" in str(info.value)
    assert pb.normalize_symbol("hype", "crypto_twap") == "hypeusd"
    assert pb.normalize_symbol("AAPL", "equity") == "aapl"
    with pytest.raises(InvalidInputError, match="unknown reference-price channel"):
        pb.normalize_symbol("btcusd", "stocks")


def test_frames_filters_are_objects_with_twap_window_and_equity_pins_only() -> None:
    frame = json.loads(
        pb.subscribe_frame("s1", ["crypto_twap:btcusd", "equity:xauusd:pyth", "crypto:ethusd", "equity_twap:eurusd"])
    )
    assert frame == {
        "op": "subscribe",
        "rid": "s1",
        "subscriptions": [
            {"channel": "price.crypto.twap", "filter": {"symbol": "btcusd", "window_seconds": 60}},
            {"channel": "price.equity", "filter": {"symbol": "xauusd", "provider": "pyth"}},
            {"channel": "price.crypto", "filter": {"symbol": "ethusd"}},
            {"channel": "price.equity.twap", "filter": {"symbol": "eurusd", "window_seconds": 60}},
        ],
    }
    assert json.loads(pb.auth_frame("a1", "k", "s", "p")) == {
        "op": "auth",
        "rid": "a1",
        "auth": {"apiKey": "k", "secret": "s", "passphrase": "p"},
    }
    with pytest.raises(ValueError, match="64 KB"):
        pb.subscribe_frame("big", [f"crypto:{'x' * 70_000}"])


def test_pinned_keys_get_a_frame_where_their_channel_is_alone() -> None:
    keys = ["crypto:btcusd", "equity:aapl:pyth", "equity:tsla:chainlink", "crypto:ethusd", "equity:spy"]
    batches = pb.batch_subscriptions(keys)
    assert batches[0] == ["crypto:btcusd", "crypto:ethusd", "equity:spy"]
    for batch in batches[1:]:
        channels = [k.split(":")[0] for k in batch]
        assert len(channels) == len(set(channels))
    assert sorted(k for b in batches for k in b) == sorted(keys)


def test_decode_snapshot_live_and_acks() -> None:
    snap = (
        '{"v":1,"channel":"price.crypto","seq":1,"ts":1788973000000,"snapshot":true,"payload":{"symbol":"btcusd",'
        '"source":"pyth","data":[{"timestamp":1788972880000,"value":64123.5,"full_accuracy_value":"64123.50000000"},'
        '{"timestamp":1788972881000,"value":64125.1,"full_accuracy_value":"64125.10000000"}]}}'
    )
    msg = pb.decode(snap, 5)
    assert msg.kind == "data" and msg.snapshot and msg.seq == 1 and msg.channel == "crypto"
    assert [e.value for e in msg.events] == [Decimal("64123.50000000"), Decimal("64125.10000000")]
    assert all(isinstance(e, ReferencePrice) and e.source == "pyth" and e.symbol == "btcusd" for e in msg.events)
    live = (
        '{"v":1,"channel":"price.equity","seq":5,"ts":1,"dropped":3,"payload":{"symbol":"aapl","value":189.42,'
        '"full_accuracy_value":"189.4217","timestamp":1788973001200,"received_at":1788973001207,'
        '"is_carried_forward":true,"source":"massive","extra":1}}'
    )
    msg = pb.decode(live, 7)
    assert msg.dropped == 3 and msg.seq == 5
    (event,) = msg.events
    assert isinstance(event, ReferencePrice)
    assert (event.channel, event.value, event.is_carried_forward, event.ts_event_ms, event.source) == (
        "equity",
        Decimal("189.4217"),
        True,
        1788973001200,
        "massive",
    )
    assert pb.decode('{"op":"subscribed","channel":"price.equity","rid":"s2","provider":"pyth"}', 0).provider == "pyth"
    error = pb.decode('{"op":"error","code":"auth_required","channel":"price.crypto","rid":"s1"}', 0)
    assert (error.kind, error.code, error.channel) == ("error", "auth_required", "crypto")
    assert pb.decode("not json", 0).kind == "malformed"
    assert pb.decode('{"op":"future_op"}', 0).kind == "unknown"
    assert pb.decode('{"v":1,"channel":"price.polymarket","seq":1,"ts":1,"payload":[]}', 0).kind == "unknown"
    # A float-only point (no exact string) is refused, never rescaled from the float.
    bad = pb.decode('{"v":1,"channel":"price.crypto","seq":2,"ts":1,"payload":{"symbol":"btcusd","value":1.5}}', 0)
    assert bad.events == [] and bad.bad_points == 1


def test_reference_price_round_trips_for_records_and_redis() -> None:
    event = ReferencePrice(
        symbol="eurusd", channel="equity_twap", value=Decimal("1.08412345"), source="chainlink", window_seconds=60
    )
    assert decode_event(encode_event(event)) == event
    assert msgspec.json.decode(encode_event(event))["value"] == "1.08412345"


def test_reconnect_plan_per_close_code() -> None:
    def plan(code: int | None, **kw: object) -> tuple[str, float]:
        rng = random.Random(3)
        backoff = Backoff(1.0, 30.0, rng)
        args: dict[str, object] = {"refreshed_in_streak": False, "can_refresh": True, **kw}
        p = plan_reconnect(code, backoff=backoff, rng=rng, **args)  # type: ignore[arg-type]
        return p.action, p.delay_s

    first = random.Random(3).uniform(0, 1.0)
    assert plan(4003) == ("reconnect", random.Random(3).uniform(0, 10.0))
    assert plan(4002) == ("reconnect", first) and plan(None) == ("reconnect", first)
    assert plan(4008)[0] == "stop_bug"
    assert plan(4001) == ("refresh_and_reconnect", first)
    assert plan(4001, refreshed_in_streak=True)[0] == "stop_auth"
    assert plan(4001, can_refresh=False)[0] == "stop_auth"
    assert plan(None, retry_after_s=7.0) == ("reconnect", 7.0 + first)


def test_seq_tracker_reports_gaps_and_dropped_per_channel() -> None:
    seq = SeqTracker()
    assert seq.observe("crypto", 1, 0) is None and seq.observe("equity", 1, 0) is None
    assert seq.observe("crypto", 2, 0) is None
    loss = seq.observe("crypto", 5, 0)
    assert loss is not None and loss.gap == 2 and "crypto" in loss.detail
    loss = seq.observe("equity", 2, 4)
    assert loss is not None and (loss.gap, loss.dropped) == (0, 4)
    seq.reset()
    assert seq.observe("crypto", 1, 0) is None  # sequence numbers start over on a new connection


def test_offline_server_gets_the_development_key_only_without_credentials() -> None:
    from polymarket_realtime.simulator.polybolt import DEVELOPMENT_KEY, with_development_key

    sim_env = {"POLYMARKET_POLYBOLT_WS_URL": "ws://127.0.0.1:1/ws"}
    assert with_development_key(sim_env, {})["POLYGON_PRIVATE_KEY"] == DEVELOPMENT_KEY
    assert with_development_key(sim_env, {"POLYGON_PRIVATE_KEY": "0x" + "1" * 64}) == sim_env
    assert with_development_key(sim_env, {"POLYMARKET_API_KEY": "k"}) == sim_env
