"""The async recorder: tap, periodic members, bounded memory, filtering, clean close."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from polymarket_realtime.recording.format import FrameFilter, RecordingHeader
from polymarket_realtime.recording.reader import RecordingReader, iter_members
from polymarket_realtime.recording.writer import Recorder, RecordingWriter

TOKEN = "7132104567925221259462638553270691275033272857194253228963137931245558399256"


def _writer(tmp_path: Path, **kwargs: object) -> RecordingWriter:
    return RecordingWriter(tmp_path, RecordingHeader(recording_id="r", created_ns=1), fsync=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_recorder_flushes_members_on_its_own_and_closes_with_a_footer(tmp_path: Path) -> None:
    recorder = Recorder(_writer(tmp_path), flush_interval_s=0.05)
    path = recorder.writer.path
    flushed = anyio.Event()
    recorder.on_flush = flushed.set
    async with anyio.create_task_group() as tg:
        tg.start_soon(recorder.run)
        for i in range(20):
            recorder.tap("market", i, f'{{"asset_id":"{TOKEN}","n":{i}}}')
        # The member appears without any explicit flush: the timer writes it.
        with anyio.fail_after(10):
            await flushed.wait()
        assert recorder.stats.frames_kept == 20
        readable = [f.ts_recv_ns for f in RecordingReader(path).frames(on_error="stop")]
        assert readable == list(range(20))  # readable before close: a crash now would lose nothing
        await recorder.aclose()
    reader = RecordingReader(path)
    assert len(list(reader.frames())) == 20
    assert reader.footers and reader.footers[-1].frames == 20


@pytest.mark.anyio
async def test_full_buffer_drops_and_counts_instead_of_growing(tmp_path: Path) -> None:
    recorder = Recorder(_writer(tmp_path), max_buffer_bytes=1_000, flush_bytes=10_000)
    for i in range(100):
        recorder.tap("market", i, "x" * 52)  # 100 bytes each with overhead
    assert recorder.stats.dropped == 90 and recorder._batch_bytes <= 1_000
    await recorder.aclose()
    reader = RecordingReader(recorder.writer.path)
    assert [f.ts_recv_ns for f in reader.frames()] == list(range(10))
    assert reader.footers[-1].dropped == 90


@pytest.mark.anyio
async def test_filter_runs_at_flush_and_keeps_matching_frames(tmp_path: Path) -> None:
    recorder = Recorder(_writer(tmp_path), frame_filter=FrameFilter({TOKEN}))
    recorder.tap("market", 1, f'[{{"event_type":"book","asset_id":"{TOKEN}"}}]')
    recorder.tap("market", 2, '{"event_type":"book","asset_id":"999"}')
    recorder.tap("market", 3, "PONG")
    await recorder.flush()
    await recorder.aclose()
    await recorder.aclose()  # idempotent
    assert [f.ts_recv_ns for f in RecordingReader(recorder.writer.path).frames()] == [1]
    assert recorder.stats.frames_seen == 3 and recorder.stats.frames_kept == 1


@pytest.mark.anyio
async def test_early_flush_when_batch_passes_flush_bytes(tmp_path: Path) -> None:
    recorder = Recorder(_writer(tmp_path), flush_interval_s=1.0, flush_bytes=500)
    flushed = anyio.Event()
    recorder.on_flush = flushed.set
    async with anyio.create_task_group() as tg:
        tg.start_soon(recorder.run)
        await anyio.wait_all_tasks_blocked()
        assert recorder._wake is not None and not recorder._wake.is_set()
        for i in range(10):
            recorder.tap("market", i, "y" * 100)
        assert recorder._wake.is_set()  # the size threshold woke the writer; no need to wait for the timer
        with anyio.fail_after(10):
            await flushed.wait()
        await recorder.aclose()
    # header, the early member, footer (and nothing else: the batch was written in one go)
    assert len(list(iter_members(recorder.writer.path))) == 3


def test_close_sync_writes_the_batch_without_an_event_loop(tmp_path: Path) -> None:
    recorder = Recorder(_writer(tmp_path))
    recorder.tap("market", 5, "z")
    recorder.close_sync()
    assert [f.ts_recv_ns for f in RecordingReader(recorder.writer.path).frames()] == [5]
    other = _writer(tmp_path / "b")
    with pytest.raises(ValueError, match="flush_interval_s"):
        Recorder(other, flush_interval_s=2.0)
    other.close()


def test_existing_recording_is_never_overwritten(tmp_path: Path) -> None:
    _writer(tmp_path).close()
    with pytest.raises(FileExistsError):
        _writer(tmp_path)


@pytest.mark.anyio
async def test_rotated_parts_footers_report_drops_so_far(tmp_path: Path) -> None:
    # Every write rotates (tiny max_part_bytes): part 0 is closed by rotation, not by aclose().
    recorder = Recorder(_writer(tmp_path, max_part_bytes=1), max_buffer_bytes=1_000, flush_bytes=10_000)
    for i in range(30):
        recorder.tap("market", i, "x" * 52)  # 100 bytes each: 10 kept, 20 dropped
    await recorder.flush()
    await recorder.aclose()
    reader = RecordingReader(recorder.writer.path)
    assert len(list(reader.frames())) == 10
    assert len(reader.footers) >= 2 and reader.footers[0].next_part is not None
    assert [f.dropped for f in reader.footers] == [20] * len(reader.footers)


def test_read_footer_reads_the_tail_and_none_without_one(tmp_path: Path) -> None:
    from polymarket_realtime.recording.format import encode_frame_line
    from polymarket_realtime.recording.reader import read_footer

    writer = _writer(tmp_path)
    writer.write_lines([encode_frame_line("market", i, f'{{"asset_id":"{TOKEN}","n":{i}}}') for i in range(7)])
    assert read_footer(writer.path) is None  # still open: no footer yet (a crash looks the same)
    writer.dropped = 3
    writer.close()
    footer = read_footer(writer.path)
    assert footer is not None and (footer.frames, footer.dropped) == (7, 3)
