"""Reading recordings back: round trip, rotation, and damage reported at a byte offset."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymarket_realtime.errors import RecordingError
from polymarket_realtime.recording.format import RawFrame, RecordingHeader, compress_member, encode_frame_line
from polymarket_realtime.recording.reader import RecordingReader, iter_members, read_header, recording_parts
from polymarket_realtime.recording.writer import RecordingWriter

_TRADE = '{"event_type":"last_trade_price","asset_id":"1","price":"PRICE"}'


def _frames(n: int, start: int = 0) -> list[RawFrame]:
    return [RawFrame(1_000 + i, "market", _TRADE.replace("PRICE", f"0.{i % 100:02d}")) for i in range(start, start + n)]


def _write(tmp_path: Path, batches: list[list[RawFrame]], max_part_bytes: int = 1 << 20) -> RecordingWriter:
    header = RecordingHeader(recording_id="rec", created_ns=1, token_ids=["1"])
    writer = RecordingWriter(tmp_path, header, fsync=False, max_part_bytes=max_part_bytes)
    for batch in batches:
        writer.write_lines([encode_frame_line(f.channel, f.ts_recv_ns, f.data) for f in batch])
    writer.close()
    return writer


def test_round_trip_preserves_every_frame_and_the_header(tmp_path: Path) -> None:
    batches = [_frames(10), _frames(5, 10), [RawFrame(2_000, "rtds", b"\x01\x02")]]
    writer = _write(tmp_path, batches)
    reader = RecordingReader(writer.path)
    assert list(reader.frames()) == [f for batch in batches for f in batch]
    assert reader.header is not None and reader.header.token_ids == ["1"]
    assert reader.footers[-1].frames == 16
    assert read_header(writer.path).recording_id == "rec"


def test_rotation_splits_parts_and_the_reader_follows_them(tmp_path: Path) -> None:
    batches = [_frames(50, i * 50) for i in range(6)]
    writer = _write(tmp_path, batches, max_part_bytes=600)
    assert len(writer.paths) > 2
    assert recording_parts(writer.path) == writer.paths
    assert [read_header(p).part for p in writer.paths] == list(range(len(writer.paths)))
    frames = list(RecordingReader(writer.path).frames())
    assert [f.ts_recv_ns for f in frames] == list(range(1_000, 1_300))
    assert len(list(RecordingReader(writer.path, follow_parts=False).frames())) < 300


def test_truncated_file_names_the_offset_and_keeps_the_valid_prefix(tmp_path: Path) -> None:
    writer = _write(tmp_path, [_frames(10), _frames(10, 10), _frames(10, 20)])
    data = writer.path.read_bytes()
    offsets = [offset for offset, _ in iter_members(writer.path)]
    # Members: header, three batches, footer. Cut the third batch in half.
    cut = offsets[3] + (offsets[4] - offsets[3]) // 2
    writer.path.write_bytes(data[:cut])

    got: list[RawFrame] = []
    with pytest.raises(RecordingError, match=f"byte offset {offsets[3]}") as info:
        got.extend(RecordingReader(writer.path).frames())
    assert info.value.offset == offsets[3] and "truncated" in str(info.value)
    assert got == _frames(20)

    lenient = RecordingReader(writer.path)
    assert list(lenient.frames(on_error="stop")) == _frames(20)
    assert lenient.error is not None and lenient.error.offset == offsets[3]


def test_corrupt_member_in_the_middle_stops_there(tmp_path: Path) -> None:
    writer = _write(tmp_path, [_frames(10), _frames(10, 10), _frames(10, 20)])
    data = bytearray(writer.path.read_bytes())
    offsets = [offset for offset, _ in iter_members(writer.path)]
    data[offsets[2] + 20] ^= 0xFF  # inside the deflate data of the second batch
    writer.path.write_bytes(bytes(data))

    reader = RecordingReader(writer.path)
    assert list(reader.frames(on_error="stop")) == _frames(10)
    assert reader.error is not None
    assert reader.error.offset == offsets[2]
    assert f"byte offset {offsets[2]}" in str(reader.error) and str(writer.path) in str(reader.error)


def test_crash_mid_member_loses_only_the_unflushed_member(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, RecordingHeader(recording_id="crash", created_ns=1), fsync=False)
    writer.write_lines([encode_frame_line("market", f.ts_recv_ns, f.data) for f in _frames(7)])
    size = writer.path.stat().st_size
    # The process dies while writing the next member: half of it reaches the disk, no footer.
    member = compress_member(b"".join(encode_frame_line("market", 9, "x") for _ in range(100)))
    assert writer._file is not None
    writer._file.write(member[: len(member) // 2])
    writer._file.close()

    reader = RecordingReader(writer.path)
    assert list(reader.frames(on_error="stop")) == _frames(7)
    assert reader.error is not None and reader.error.offset == size


def test_not_a_recording_is_reported_at_offset_zero(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(compress_member(b'[1,"market","x"]\n'))
    with pytest.raises(RecordingError, match="byte offset 0"):
        list(RecordingReader(path).frames())
    path.write_bytes(b"plain text, not gzip at all")
    with pytest.raises(RecordingError, match="byte offset 0"):
        read_header(path)
    with pytest.raises(RecordingError, match="cannot open"):
        read_header(tmp_path / "missing.jsonl.gz")


def test_bad_line_inside_a_valid_member_is_reported(tmp_path: Path) -> None:
    writer = _write(tmp_path, [_frames(3)])
    good = writer.path.read_bytes()
    writer.path.write_bytes(good + compress_member(b'[1,"market"\n'))
    reader = RecordingReader(writer.path)
    assert list(reader.frames(on_error="stop")) == _frames(3)
    assert reader.error is not None and reader.error.offset == len(good) and "bad line 1" in str(reader.error)
