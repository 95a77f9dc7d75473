"""Recording file format: lines, members, part names, frame filter."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from polymarket_realtime.recording.format import (
    FrameFilter,
    RawFrame,
    RecordingHeader,
    compress_member,
    decode_frame_line,
    decode_header,
    encode_frame_line,
    encode_meta_line,
    frame_keys,
    part_path,
    recording_id_of,
)

TOKEN_A = "7132104567925221259462638553270691275033272857194253228963137931245558399256"
TOKEN_B = "5211431950124591551605510604688420996992612748282795467444384642781381322242"
MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"


def test_frame_line_round_trips_text_exactly() -> None:
    frame = '{"event_type":"book","asset_id":"1","bids":[],"asks":[],"note":"quote \\" and \\u00e9 é"}'
    line = encode_frame_line("market", 123, frame)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_frame_line(line[:-1]) == RawFrame(123, "market", frame)


def test_frame_line_round_trips_binary_frames() -> None:
    frame = b"\x00\xffbinary\n"
    decoded = decode_frame_line(encode_frame_line("rtds", 7, frame).rstrip(b"\n"))
    assert decoded.data == frame and decoded.channel == "rtds" and decoded.ts_recv_ns == 7


def test_members_concatenate_into_one_valid_gzip_stream() -> None:
    header = RecordingHeader(recording_id="r", created_ns=1, token_ids=[TOKEN_A])
    blob = compress_member(encode_meta_line(header)) + compress_member(encode_frame_line("market", 5, "PONG"))
    lines = gzip.decompress(blob).splitlines()
    assert decode_header(lines[0]).token_ids == [TOKEN_A]
    assert decode_frame_line(lines[1]) == RawFrame(5, "market", "PONG")
    # Each member is independently decodable, too.
    first = zlib.decompressobj(31)
    assert first.decompress(blob).startswith(b"{")
    assert first.eof and first.unused_data


def test_part_names_round_trip() -> None:
    directory = Path("/x")
    assert part_path(directory, "run-1", 0).name == "run-1.jsonl.gz"
    assert part_path(directory, "run-1", 12).name == "run-1.p0012.jsonl.gz"
    assert recording_id_of(part_path(directory, "run-1", 0)) == ("run-1", 0)
    assert recording_id_of(part_path(directory, "run.1", 3)) == ("run.1", 3)
    assert recording_id_of(Path("/x/other.txt")) is None


def test_frame_keys_finds_tokens_and_markets_in_nested_frames() -> None:
    frame = (
        '{"event_type":"price_change","market":"' + MARKET + '","price_changes":['
        '{"asset_id":"' + TOKEN_A + '","price":"0.5"},{"asset_id": "' + TOKEN_B + '","price":"0.5"}]}'
    )
    assert frame_keys(frame) == {MARKET, TOKEN_A, TOKEN_B}


def test_frame_filter_keeps_only_relevant_frames() -> None:
    keep = FrameFilter({TOKEN_A}, rtds_topics={"crypto_prices"})
    assert keep("market", '[{"event_type":"book","asset_id":"' + TOKEN_A + '"}]')
    assert not keep("market", '{"event_type":"book","asset_id":"' + TOKEN_B + '"}')
    assert not keep("market", "PONG")
    assert not keep("market", "[]")
    assert keep("rtds", '{"topic":"crypto_prices","type":"update","payload":{}}')
    assert not keep("rtds", '{"topic":"comments","type":"comment_created"}')
    by_market = FrameFilter(market_ids={MARKET})
    assert by_market("market", '{"event_type":"price_change","market":"' + MARKET + '"}')
    assert not by_market("user", '{"event_type":"trade","market":"' + MARKET + '","owner":"api-key"}')
    assert not by_market("rtds", '{"topic":"crypto_prices"}')
    everything = FrameFilter(keep_all_market=True)
    assert everything("market", '{"event_type":"new_market","market":"0x1"}')
