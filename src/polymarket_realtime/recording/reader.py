"""Read recordings: frames in order across parts, with damage reported at an exact byte offset.

Contract:

* :meth:`RecordingReader.frames` yields every frame of every complete, CRC-valid gzip member, in file
  order, following rotated parts (``<id>.p0001.jsonl.gz`` ...). A member's lines are yielded only after
  its CRC checked out, so nothing from a damaged member is ever yielded.
* At the first damaged or truncated member it raises :class:`~polymarket_realtime.errors.RecordingError`
  naming the file and the byte offset where valid data ends (the damaged member's first byte), after
  having yielded the whole valid prefix. With ``on_error="stop"`` it logs the error, stores it in
  :attr:`RecordingReader.error` and just stops (replay of the valid prefix).
* Memory is bounded by one member (the writer caps members at about a second or a megabyte of frames).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import msgspec

from ..errors import RecordingError
from .format import (
    RawFrame,
    RecordingFooter,
    RecordingHeader,
    decode_footer,
    decode_frame_line,
    decode_header,
    part_path,
    recording_id_of,
)

__all__ = ["RecordingReader", "iter_members", "read_footer", "read_header", "recording_parts"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16
_MAX_MEMBER_BYTES = 256 << 20
"""A member larger than this is treated as damage rather than read into memory."""


def iter_members(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, payload)`` for each gzip member of ``path``; offset is the member's first byte.

    Raises:
        RecordingError: at the first member that is corrupt or cut short, with its offset.
    """
    for offset, _size, payload in iter_sized_members(path):
        yield offset, payload


def iter_sized_members(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Like :func:`iter_members`, with each member's compressed size: ``(offset, size, payload)``."""
    name = str(path)
    try:
        handle: BinaryIO = path.open("rb")
    except OSError as exc:
        raise RecordingError(f"cannot open recording: {exc.strerror or exc}", path=name, offset=0) from exc
    with handle:
        start = 0  # file offset of the member being decoded
        fed = 0  # compressed bytes of that member given to the decompressor so far
        decomp = zlib.decompressobj(31)
        out: list[bytes] = []
        size = 0
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            data = chunk
            while data:
                try:
                    piece = decomp.decompress(data)
                except zlib.error as exc:
                    raise RecordingError(f"corrupt gzip member ({exc})", path=name, offset=start) from exc
                if piece:
                    out.append(piece)
                    size += len(piece)
                    if size > _MAX_MEMBER_BYTES:
                        raise RecordingError("gzip member too large; file is damaged", path=name, offset=start)
                if not decomp.eof:
                    fed += len(data)
                    break
                unused = decomp.unused_data
                fed += len(data) - len(unused)
                yield start, fed, b"".join(out)
                start += fed
                fed = 0
                out = []
                size = 0
                decomp = zlib.decompressobj(31)
                data = unused
        if fed:
            raise RecordingError("truncated gzip member (the writer stopped mid-write)", path=name, offset=start)


def read_header(path: Path) -> RecordingHeader:
    """The header of one part file (reads only its first member).

    Raises:
        RecordingError: the file is not a recording or its first member is damaged (offset 0).
    """
    for offset, payload in iter_members(path):
        first = payload.split(b"\n", 1)[0]
        try:
            return decode_header(first)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RecordingError(f"not a recording header: {exc}", path=str(path), offset=offset) from exc
    raise RecordingError("empty file: no recording header", path=str(path), offset=0)


def read_footer(path: Path, *, tail_bytes: int = 8192) -> RecordingFooter | None:
    """The footer of one part file, reading only its tail; None if the part was not closed cleanly.

    The footer is the last gzip member and is small, so the member is found by trying each gzip magic
    in the last ``tail_bytes`` (latest first) until one decompresses, CRC-checked, exactly to the end
    of the file into a footer line.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - tail_bytes))
            tail = handle.read()
    except OSError:
        return None
    start = tail.rfind(b"\x1f\x8b\x08")
    while start >= 0:
        decomp = zlib.decompressobj(31)
        try:
            payload = decomp.decompress(tail[start:])
        except zlib.error:
            payload = b""
        if decomp.eof and not decomp.unused_data and payload.startswith(b"{"):
            try:
                return decode_footer(payload.strip())
            except (msgspec.DecodeError, msgspec.ValidationError):
                return None
        start = tail.rfind(b"\x1f\x8b\x08", 0, start)
    return None


def recording_parts(first: Path) -> list[Path]:
    """The existing part files of the recording that starts at ``first``, in order."""
    parsed = recording_id_of(first)
    if parsed is None:
        return [first]
    recording_id, part = parsed
    parts = [first]
    while True:
        part += 1
        candidate = part_path(first.parent, recording_id, part)
        if not candidate.exists():
            return parts
        parts.append(candidate)


@dataclass(slots=True)
class _PartState:
    header: RecordingHeader | None = None
    footer: RecordingFooter | None = None


class RecordingReader:
    """Iterate the frames of a recording file (and its rotated parts).

    Args:
        path: the first part (``<id>.jsonl.gz``); later parts are found next to it.
        follow_parts: also read ``<id>.pNNNN.jsonl.gz`` after the first file.
    """

    def __init__(self, path: Path | str, *, follow_parts: bool = True) -> None:
        self.path = Path(path)
        self.follow_parts = follow_parts
        self.header: RecordingHeader | None = None
        """Header of the first part; set once iteration started (or by :meth:`read_header`)."""
        self.footers: list[RecordingFooter] = []
        self.error: RecordingError | None = None
        """The damage met by the last ``frames(on_error="stop")`` run, if any."""
        self.frames_read = 0
        self.bytes_done = 0
        """Compressed bytes of the parts consumed so far (progress; pro rata within a member)."""

    def read_header(self) -> RecordingHeader:
        self.header = read_header(self.path)
        return self.header

    def parts(self) -> list[Path]:
        return recording_parts(self.path) if self.follow_parts else [self.path]

    def frames(self, *, on_error: Literal["raise", "stop"] = "raise") -> Iterator[RawFrame]:
        """Every frame in order. See the module docstring for the damage contract."""
        self.error = None
        self.frames_read = 0
        self.footers = []
        self.bytes_done = 0
        try:
            done_before = 0
            for index, part in enumerate(self.parts()):
                yield from self._part_frames(part, first=index == 0, done_before=done_before)
                done_before += part.stat().st_size
        except RecordingError as exc:
            if on_error == "raise":
                raise
            logger.warning("recording damaged; replaying the valid prefix only: %s", exc)
            self.error = exc

    def __iter__(self) -> Iterator[RawFrame]:
        return self.frames()

    def _part_frames(self, part: Path, *, first: bool, done_before: int = 0) -> Iterator[RawFrame]:
        state = _PartState()
        name = str(part)
        for offset, size, payload in iter_sized_members(part):
            lines = payload.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            # Decode the whole member before yielding, so a bad line never leaves half a member applied.
            decoded: list[RawFrame] = []
            for number, line in enumerate(lines, start=1):
                try:
                    if line[:1] == b"[":
                        decoded.append(decode_frame_line(line))
                    elif state.header is None:
                        state.header = decode_header(line)
                    else:
                        state.footer = decode_footer(line)
                        self.footers.append(state.footer)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise RecordingError(f"bad line {number} in gzip member ({exc})", path=name, offset=offset) from exc
                if state.header is None:
                    raise RecordingError("not a recording: first line is not a header", path=name, offset=offset)
            if first and self.header is None:
                self.header = state.header
            self.frames_read += len(decoded)
            # Progress moves within a member too (pro rata), so even a one-member recording reports it.
            base, count = done_before + offset, len(decoded)
            for index, frame in enumerate(decoded):
                self.bytes_done = base + size * index // count
                yield frame
            self.bytes_done = base + size
        if state.header is None:
            raise RecordingError("empty file: no recording header", path=name, offset=0)
