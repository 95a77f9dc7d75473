"""RecordingService queries on files: recording id resolution (no paths) and stopped recordings' counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.errors import InvalidInputError, NotFoundError
from polymarket_realtime.recording.format import RecordingHeader, encode_frame_line
from polymarket_realtime.recording.reader import iter_members
from polymarket_realtime.recording.service import RecordingService
from polymarket_realtime.recording.writer import RecordingWriter


class _NoFeed:
    receives_raw_frames = True

    async def subscribe_assets(self, asset_ids: list[str]) -> Any: ...
    async def unsubscribe_assets(self, asset_ids: list[str]) -> Any: ...
    def add_raw_tap(self, callback: Any) -> Any: ...
    async def subscribe_rtds(self, topic: str, type: str = "*") -> Any: ...
    async def unsubscribe_rtds(self, topic: str, type: str = "*") -> Any: ...


class _NoBooks:
    def get(self, asset_id: str) -> None:
        return None

    def asset_ids(self) -> list[str]:
        return []


def _record(directory: Path, recording_id: str, frames: int, *, name: str = "", crash: bool = False) -> Path:
    header = RecordingHeader(recording_id=recording_id, created_ns=1, name=name, token_ids=["1"])
    writer = RecordingWriter(directory, header, fsync=False, max_part_bytes=300)
    for i in range(frames):
        writer.write_lines([encode_frame_line("market", i, '{"asset_id":"1","n":' + str(i) + "}")])
    writer.dropped = 2
    writer.close()
    if crash:  # as if the process died before writing the footer: cut the last part's last member
        last = writer.paths[-1]
        footer_at = [offset for offset, _ in iter_members(last)][-1]
        last.write_bytes(last.read_bytes()[:footer_at])
    return writer.path


def _service(directory: Path) -> RecordingService:
    return RecordingService(directory, _NoFeed(), _NoBooks())


def test_path_of_accepts_ids_file_names_and_names_inside_the_directory_only(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    path = _record(recordings, "good-1", 3, name="my session")
    outside = _record(tmp_path / "elsewhere", "secret", 3)
    service = _service(recordings)
    assert service.path_of("good-1") == path
    assert service.path_of("good-1.jsonl.gz") == path
    assert service.path_of("my session") == path
    for ref in (str(outside), "../elsewhere/secret", "../elsewhere/secret.jsonl.gz", "/etc/passwd", "..", ".x"):
        with pytest.raises(InvalidInputError, match="not a path"):
            service.path_of(ref)
    with pytest.raises(NotFoundError, match="no recording 'secret'") as info:
        service.path_of("secret")
    assert "good-1" in str(info.value)


def test_list_recordings_reads_frame_counts_of_stopped_recordings_from_footers(tmp_path: Path) -> None:
    _record(tmp_path, "rotated", 40)  # several parts (300-byte parts)
    _record(tmp_path, "crashed", 5, crash=True)  # no footer: counts unknown
    listed = {r.recording_id: r for r in _service(tmp_path).list_recordings().recordings}
    rotated, crashed = listed["rotated"], listed["crashed"]
    assert rotated.parts > 1 and rotated.state == "stopped"
    assert (rotated.frames, rotated.dropped) == (40, 2)
    assert (crashed.frames, crashed.dropped) == (None, None)
