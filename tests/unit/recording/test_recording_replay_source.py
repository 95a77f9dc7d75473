"""ReplaySource without sockets: pacing on virtual time, splitting, books, damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polymarket_realtime.errors import ConfigError
from polymarket_realtime.recording.format import RecordingHeader, encode_frame_line
from polymarket_realtime.recording.reader import iter_members
from polymarket_realtime.recording.writer import RecordingWriter
from polymarket_realtime.simulator.replay import ReplaySource, parse_speed

A, B = "111", "222"
M = "0x" + "ab" * 32
S = 1_000_000_000


def _book(asset: str, bid: str, ask: str) -> dict[str, object]:
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": M,
        "bids": [{"price": "0.1", "size": "5"}, {"price": bid, "size": "10"}],
        "asks": [{"price": "0.9", "size": "5"}, {"price": ask, "size": "10"}],
        "timestamp": "1",
        "hash": "h",
        "tick_size": "0.01",
    }


def _change(asset: str, side: str, price: str, size: str) -> str:
    return json.dumps(
        {
            "event_type": "price_change",
            "market": M,
            "price_changes": [{"asset_id": asset, "price": price, "size": size, "side": side}],
            "timestamp": "2",
        }
    )


def _recording(tmp_path: Path, frames: list[tuple[int, str]], per_member: int = 1) -> Path:
    writer = RecordingWriter(tmp_path, RecordingHeader(recording_id="t", created_ns=0, token_ids=[A, B]), fsync=False)
    for i in range(0, len(frames), per_member):
        writer.write_lines([encode_frame_line("market", ts, text) for ts, text in frames[i : i + per_member]])
    writer.close()
    return writer.path


def _frames() -> list[tuple[int, str]]:
    return [
        (10 * S, json.dumps([_book(A, "0.4", "0.6"), _book(B, "0.3", "0.7")])),
        (11 * S, _change(A, "BUY", "0.45", "20")),
        (12 * S, _change(A, "SELL", "0.6", "0")),
        (14 * S, json.dumps({"event_type": "last_trade_price", "asset_id": B, "market": M, "price": "0.7"})),
    ]


def test_pacing_follows_recorded_time_scaled_by_speed(tmp_path: Path) -> None:
    source = ReplaySource(_recording(tmp_path, _frames()), speed=2.0)
    assert source.poll(0.0) == []  # nobody subscribed yet: the clock has not started
    assert source.is_known(A) is False  # a subscription starts the clock; no book replayed yet
    first = source.poll(5.0)  # clock starts here: t=0
    assert [f.asset_ids for f in first] == [(A,), (B,)]  # the dump array is split per token
    assert source.poll(5.4) == []  # next frame is 1 s later in the recording = 0.5 s at 2x
    assert [f.event_type for f in source.poll(5.5)] == ["price_change"]
    assert [f.event_type for f in source.poll(7.0)] == ["price_change", "last_trade_price"]
    assert source.finished and source.frames_replayed == 4


def test_books_follow_the_replay_for_dumps_and_rest(tmp_path: Path) -> None:
    source = ReplaySource(_recording(tmp_path, _frames()), speed=None, start="immediately")
    out = source.poll(0.0)
    assert len(out) == 5 and source.finished
    single = out[2]
    assert single.text == _frames()[1][1]  # a single-object frame goes out exactly as recorded
    book = source.book_event(A)
    assert book is not None
    assert [lv["price"] for lv in book["bids"]] == ["0.1", "0.4", "0.45"]  # venue order: best last
    assert [lv["price"] for lv in book["asks"]] == ["0.9"]  # 0.6 was removed by size 0
    rest = source.rest_book(B)
    assert rest is not None and rest["last_trade_price"] == "0.7" and rest["asset_id"] == B
    assert source.is_known(A) and not source.is_known("999")


def test_as_fast_as_possible_respects_the_per_poll_cap(tmp_path: Path) -> None:
    frames = [(i, _change(A, "BUY", "0.5", str(i + 1))) for i in range(25)]
    source = ReplaySource(
        _recording(tmp_path, frames, per_member=5), speed=None, start="immediately", max_frames_per_poll=10
    )
    sizes = [len(source.poll(0.0)) for _ in range(4)]
    assert sizes == [10, 10, 5, 0] and source.finished


def test_damaged_recording_replays_its_valid_prefix(tmp_path: Path) -> None:
    path = _recording(tmp_path, _frames())
    offsets = [offset for offset, _ in iter_members(path)]
    path.write_bytes(path.read_bytes()[: offsets[3] + 7])  # cut inside the third frame's member
    source = ReplaySource(path, speed=None, start="immediately")
    out = source.poll(0.0)
    assert [f.event_type for f in out] == ["book", "book", "price_change"]
    assert source.finished
    assert source.error is not None and source.error.offset == offsets[3]


def test_speed_values() -> None:
    assert parse_speed("max") is None and parse_speed("0") is None and parse_speed(None) == 1.0
    assert parse_speed("2.5") == 2.5
    with pytest.raises(ConfigError, match="--speed"):
        parse_speed("fast-ish")
