"""Streaming recorder: raw frames in, gzip members out, bounded memory, rotation by size.

Contract:

* :meth:`Recorder.tap` is the raw-frame tap (``callback(channel, ts_recv_ns, frame)``) and is O(1): it
  appends to an in-memory batch and never blocks or awaits. When the batch holds ``max_buffer_bytes``
  the frame is dropped and counted (:attr:`RecorderStats.dropped`): memory stays bounded even when the
  disk stalls.
* :meth:`Recorder.run` writes the batch as one gzip member every ``flush_interval_s`` (default 0.5 s) or
  as soon as it passes ``flush_bytes``, then flushes (and by default fsyncs) the file. Filtering, JSON
  encoding and compression run in a worker thread, off the event loop. A crash therefore loses at most
  the frames of the last interval; every member written before is complete and CRC-checked.
* :class:`RecordingWriter` (sync) starts a new part file once the current one reaches ``max_part_bytes``;
  each part begins with its own header, and a part closed cleanly ends with a footer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio
import msgspec

from ..clock import SYSTEM_CLOCK, Clock
from .format import (
    RecordingFooter,
    RecordingHeader,
    compress_member,
    encode_frame_line,
    encode_meta_line,
    part_path,
)

__all__ = ["Recorder", "RecorderStats", "RecordingWriter"]

logger = logging.getLogger(__name__)

FrameFilterFn = Callable[[str, str | bytes], bool]


class RecordingWriter:
    """Writes frame lines as gzip members into ``<directory>/<recording_id>[.pNNNN].jsonl.gz``.

    Not thread-safe: one thread writes at a time (the :class:`Recorder` serializes its flushes).

    Args:
        directory: where the part files go (created if missing).
        header: written (with ``part`` set) at the start of every part.
        max_part_bytes: rotate to a new part once the current file reaches this size.
        compress_level: zlib level (6 is gzip's default; 1 is faster, ~15% bigger).
        fsync: fsync after every member, so a power loss also keeps flushed members.
    """

    def __init__(
        self,
        directory: Path,
        header: RecordingHeader,
        *,
        max_part_bytes: int = 64 << 20,
        compress_level: int = 6,
        fsync: bool = True,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if max_part_bytes <= 0:
            raise ValueError("max_part_bytes must be positive")
        self.directory = directory
        self.header = header
        self.max_part_bytes = max_part_bytes
        self.compress_level = compress_level
        self.fsync = fsync
        self._clock = clock
        self.part = -1
        self.paths: list[Path] = []
        self.frames_written = 0
        self.part_frames = 0
        self.bytes_written = 0
        self.dropped = 0
        """Kept current by the owner (before each write and before :meth:`close`) so every footer reports it."""
        self._file: BinaryIO | None = None
        self._part_bytes = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._open_part()

    @property
    def path(self) -> Path:
        """The first part: the file that names the recording."""
        return self.paths[0]

    @property
    def closed(self) -> bool:
        return self._file is None

    def write_lines(self, lines: list[bytes]) -> None:
        """Append ``lines`` (encoded frame lines) as one gzip member, flush it, rotate if due."""
        if not lines:
            return
        if self._file is None:
            raise ValueError("recording writer is closed")
        self._write_member(b"".join(lines))
        self.frames_written += len(lines)
        self.part_frames += len(lines)
        if self._part_bytes >= self.max_part_bytes:
            next_path = part_path(self.directory, self.header.recording_id, self.part + 1)
            self._close_part(next_part=next_path.name)
            self._open_part()

    def close(self) -> None:
        """Write the footer and close the current part. Idempotent."""
        if self._file is not None:
            self._close_part(next_part=None)

    # --- parts ----------------------------------------------------------------------------------

    def _open_part(self) -> None:
        self.part += 1
        path = part_path(self.directory, self.header.recording_id, self.part)
        # "xb": never overwrite an earlier recording that happens to share the id.
        self._file = path.open("xb")
        self.paths.append(path)
        self._part_bytes = 0
        self.part_frames = 0
        header = msgspec.structs.replace(self.header, part=self.part)
        self._write_member(encode_meta_line(header))

    def _close_part(self, *, next_part: str | None) -> None:
        footer = RecordingFooter(
            frames=self.part_frames, dropped=self.dropped, ended_ns=self._clock.time_ns(), next_part=next_part
        )
        self._write_member(encode_meta_line(footer))
        assert self._file is not None
        self._file.close()
        self._file = None

    def _write_member(self, payload: bytes) -> None:
        assert self._file is not None
        member = compress_member(payload, self.compress_level)
        self._file.write(member)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self._part_bytes += len(member)
        self.bytes_written += len(member)


@dataclass(slots=True)
class RecorderStats:
    frames_seen: int = 0
    frames_kept: int = 0
    dropped: int = 0
    """Frames dropped because the in-memory batch was full (the disk could not keep up)."""
    flushes: int = 0
    last_flush_ns: int = 0
    errors: list[str] = field(default_factory=list)


class Recorder:
    """Async driver around a :class:`RecordingWriter`: tap frames, flush members on a timer.

    Args:
        writer: the sync writer (owned: closed by :meth:`aclose`).
        frame_filter: ``(channel, frame) -> keep?``; None keeps every frame.
        flush_interval_s: at most this long between a frame's arrival and its member being written
            (plus the compression time). Must be <= 1 s to honour the crash contract.
        flush_bytes: flush early once the batch holds this many bytes (bounds member size).
        max_buffer_bytes: drop (and count) frames beyond this many buffered bytes.
    """

    def __init__(
        self,
        writer: RecordingWriter,
        *,
        frame_filter: FrameFilterFn | None = None,
        flush_interval_s: float = 0.5,
        flush_bytes: int = 1 << 20,
        max_buffer_bytes: int = 16 << 20,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not 0 < flush_interval_s <= 1.0:
            raise ValueError("flush_interval_s must be in (0, 1]")
        self.writer = writer
        self.frame_filter = frame_filter
        self.flush_interval_s = flush_interval_s
        self.flush_bytes = flush_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self.stats = RecorderStats()
        self._clock = clock
        self._batch: list[tuple[str, int, str | bytes]] = []
        self._batch_bytes = 0
        self._wake: anyio.Event | None = None  # created in run(): anyio events need a running loop
        self._closing = False
        self._flush_lock: anyio.Lock | None = None
        self.on_flush: Callable[[], None] | None = None
        """Called on the event loop after each member written by :meth:`flush` (tests, progress)."""
        self._write_lock = threading.Lock()

    # --- hot path -------------------------------------------------------------------------------

    def tap(self, channel: str, ts_recv_ns: int, frame: str | bytes) -> None:
        """Raw-frame tap. O(1), never blocks; drops and counts when the batch is full."""
        stats = self.stats
        stats.frames_seen += 1
        if self._closing:
            return
        size = len(frame) + 48
        if self._batch_bytes + size > self.max_buffer_bytes:
            stats.dropped += 1
            return
        self._batch.append((channel, ts_recv_ns, frame))
        self._batch_bytes += size
        if self._batch_bytes >= self.flush_bytes and self._wake is not None:
            self._wake.set()

    # --- writer task ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Flush loop; returns after :meth:`aclose` (or cancellation, which still closes the file)."""
        while not self._closing:
            self._wake = anyio.Event()
            if self._batch_bytes >= self.flush_bytes:
                self._wake.set()
            with anyio.move_on_after(self.flush_interval_s):
                await self._wake.wait()
            await self.flush()

    async def flush(self) -> None:
        """Write whatever is buffered now as one member (in a worker thread).

        Flushes are serialized, so members land in the order their frames arrived.
        """
        if self._flush_lock is None:
            self._flush_lock = anyio.Lock()
        async with self._flush_lock:
            batch, self._batch, self._batch_bytes = self._batch, [], 0
            if not batch or self.writer.closed:
                return
            await anyio.to_thread.run_sync(self._write_batch, batch)
        if self.on_flush is not None:
            self.on_flush()

    async def aclose(self) -> None:
        """Stop tapping, write the last batch and the footer. Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        with anyio.CancelScope(shield=True):
            await self.flush()
            assert self._flush_lock is not None
            async with self._flush_lock:
                await anyio.to_thread.run_sync(self._close_writer)

    def close_sync(self) -> None:
        """Flush and close from synchronous code (no event loop running), e.g. after a crash handler."""
        self._closing = True
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if batch and not self.writer.closed:
            self._write_batch(batch)
        self._close_writer()

    def _write_batch(self, batch: list[tuple[str, int, str | bytes]]) -> None:
        keep = self.frame_filter
        lines = [encode_frame_line(ch, ts, fr) for ch, ts, fr in batch if keep is None or keep(ch, fr)]
        with self._write_lock:
            # Kept current before every write, so a part closed by rotation reports the drops so far too.
            self.writer.dropped = self.stats.dropped
            try:
                self.writer.write_lines(lines)
            except OSError as exc:
                # Disk full or similar: count the loss, keep the process alive, keep trying next time.
                self.stats.dropped += len(lines)
                self.stats.errors.append(str(exc))
                del self.stats.errors[:-5]
                logger.error("recording write failed: %s", exc)
                return
        self.stats.frames_kept += len(lines)
        self.stats.flushes += 1
        self.stats.last_flush_ns = self._clock.time_ns()

    def _close_writer(self) -> None:
        with self._write_lock:
            self.writer.dropped = self.stats.dropped
            self.writer.close()
