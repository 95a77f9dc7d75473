# Over 400 lines: the recording lifecycle (start, taps, backfill, stop, list) is one stateful service.
"""RecordingService: start/stop/list recordings of the live feed (used by the tools and the CLI).

Over 400 lines: start/stop/list with the REST book backfill around one table of active recordings; the
file format, writer and reader are their own modules.

Contract:

* One raw tap on the feed fans every received frame out to the active recordings (O(1) per recording:
  a list append, see :class:`~.writer.Recorder`). Each recording keeps only frames mentioning its tokens
  or markets (and its RTDS topics), filtered off the event loop at flush time.
* Starting a recording subscribes its tokens through the feed (ref-counted there, so an asset another
  consumer already watches gets no fresh initial dump); books that are already live are therefore
  written first as synthetic ``snapshot`` frames, so every recording starts with a full book.
* Recordings are files in ``settings.recordings_dir``; :meth:`list_recordings` reads only headers.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.abc
import msgspec
from pydantic import BaseModel, Field

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, NotFoundError, RecordingError, StateError
from ..model.book import BookReader, OrderBook
from ..model.markets import MarketInfo
from .format import SUFFIX, FrameFilter, RecordingHeader, recording_id_of
from .reader import read_footer, read_header, recording_parts
from .writer import Recorder, RecordingWriter

__all__ = ["RecordingInfo", "RecordingList", "RecordingService", "book_frame", "new_recording_id"]

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"[^A-Za-z0-9_.-]+")


class RecordingFeed(Protocol):
    """The part of the feed manager a recording needs."""

    @property
    def receives_raw_frames(self) -> bool: ...

    async def subscribe_assets(self, asset_ids: list[str]) -> Any: ...
    async def unsubscribe_assets(self, asset_ids: list[str]) -> Any: ...
    def add_raw_tap(self, callback: Callable[[str, int, str | bytes], None]) -> Any: ...
    async def subscribe_rtds(self, topic: str, type: str = "*") -> Any: ...
    async def unsubscribe_rtds(self, topic: str, type: str = "*") -> Any: ...
    async def subscribe_reference_prices(self, keys: Iterable[str]) -> Any: ...
    async def unsubscribe_reference_prices(self, keys: Iterable[str]) -> Any: ...
    async def subscribe_sports(self) -> Any: ...
    async def unsubscribe_sports(self) -> Any: ...


class MarketResolver(Protocol):
    async def get_market(self, ref: str) -> MarketInfo: ...


class RecordingInfo(BaseModel):
    recording_id: str
    name: str = ""
    state: str = Field(description="recording (in progress), stopped, or damaged")
    path: str
    token_ids: list[str] = Field(default_factory=list)
    market_ids: list[str] = Field(default_factory=list)
    started_at: str = ""
    frames: int | None = Field(
        default=None, description="frames written (from the file footers once stopped; None if it was not closed)"
    )
    dropped: int | None = None
    bytes: int = 0
    parts: int = 1
    error: str | None = None


class RecordingList(BaseModel):
    directory: str
    recordings: list[RecordingInfo]


def new_recording_id(name: str, now_ns: int, directory: Path) -> str:
    """``<name>-<UTC timestamp>``, made unique in ``directory``; only ``[A-Za-z0-9_.-]`` kept."""
    stem = _NAME_RE.sub("-", name).strip("-.")[:60] or "rec"
    stamp = datetime.fromtimestamp(now_ns / 1e9, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = f"{stem}-{stamp}"
    n = 1
    while (directory / f"{candidate}{SUFFIX}").exists():
        n += 1
        candidate = f"{stem}-{stamp}-{n}"
    return candidate


def book_frame(book: OrderBook) -> str:
    """A venue-format ``book`` event (levels in the venue's order, best last) for a live book."""
    bids = [{"price": str(level.price), "size": str(level.size)} for level in reversed(book.bids())]
    asks = [{"price": str(level.price), "size": str(level.size)} for level in reversed(book.asks())]
    body: dict[str, object] = {
        "event_type": "book",
        "asset_id": book.asset_id,
        "market": book.market,
        "bids": bids,
        "asks": asks,
        "timestamp": str(book.ts_event_ms),
        "hash": book.hash,
    }
    if book.tick_size is not None:
        body["tick_size"] = str(book.tick_size)
    if book.min_order_size is not None:
        body["min_order_size"] = str(book.min_order_size)
    body["last_trade_price"] = "" if book.last_trade_price is None else str(book.last_trade_price)
    return msgspec.json.encode(body).decode()


@dataclass(eq=False)
class _Active:
    recorder: Recorder
    name: str
    token_ids: list[str]
    market_ids: list[str]
    started_ns: int
    rtds: list[tuple[str, str]]
    reference: list[str] = field(default_factory=list)
    sports: bool = False
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)


class RecordingService:
    """Records the live feed to files.

    Args:
        directory: where recordings live (``settings.recordings_dir``).
        feed: the feed manager (subscribe/unsubscribe assets, raw tap).
        books: the live book store (for the synthetic start snapshots).
        markets: resolves condition ids / slugs to tokens and metadata (Gamma); optional.
        max_part_bytes: rotation size per part file.
        backfill_s: how long after start to watch for books delivered by the REST fallback.
    """

    def __init__(
        self,
        directory: Path,
        feed: RecordingFeed,
        books: BookReader,
        *,
        markets: MarketResolver | None = None,
        max_part_bytes: int = 64 << 20,
        flush_interval_s: float = 0.5,
        source: str = "",
        backfill_s: float = 15.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.directory = directory
        self._backfill_s = backfill_s
        self._feed = feed
        self._books = books
        self._markets = markets
        self._max_part_bytes = max_part_bytes
        self._flush_interval_s = flush_interval_s
        self._source = source
        self._clock = clock
        self._active: dict[str, _Active] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self._tapped = False
        self.backfilled = 0
        """Books recorded from the REST snapshot fallback (see :meth:`_backfill_rest_books`)."""

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Attach to the feed; recorder tasks will run in ``task_group``."""
        self._task_group = task_group
        if not self._tapped:
            self._feed.add_raw_tap(self._tap)
            self._tapped = True

    def _tap(self, channel: str, ts_recv_ns: int, frame: str | bytes) -> None:
        for active in self._active.values():
            active.recorder.tap(channel, ts_recv_ns, frame)

    # --- commands -------------------------------------------------------------------------------

    async def start_recording(
        self,
        token_ids: Sequence[str] = (),
        market_ids: Sequence[str] = (),
        name: str = "",
        *,
        rtds: Sequence[tuple[str, str]] = (),
        reference: Sequence[str] = (),
        path: Path | None = None,
        sports: bool = False,
    ) -> RecordingInfo:
        """Start recording ``token_ids`` plus every token of ``market_ids`` (condition ids or slugs).

        ``rtds`` adds RTDS ``(topic, type)`` subscriptions, ``reference`` PolyBolt keys (``"crypto:btcusd"``);
        ``path`` picks the file (``<id>.jsonl.gz``) instead of a generated name in the recordings directory;
        ``sports`` adds the sports socket's game updates.

        Raises:
            InvalidInputError: nothing to record.
            StateError: the service was not started.
        """
        if self._task_group is None:
            raise InvalidInputError("the recording service is not running")
        if not self._feed.receives_raw_frames:
            raise StateError(
                "this server reads the shared feed from Redis, so raw venue frames never reach it and nothing "
                "could be recorded: run `polymarket-realtime-mcp record ...` on the machine running "
                "`polymarket-realtime-mcp feed`",
                state="shared_feed",
            )
        tokens = [t.strip() for t in token_ids if t.strip()]
        conditions: list[str] = []
        metadata: list[dict[str, object]] = []
        for ref in (m.strip() for m in market_ids if m.strip()):
            if self._markets is None:
                raise InvalidInputError("market_ids need the Gamma client; pass token_ids instead")
            info = await self._markets.get_market(ref)
            if not info.outcomes:
                raise InvalidInputError(
                    f"market {ref!r} is not streamable yet: {info.unsupported_reason or 'it has no outcome ids'}"
                )
            conditions.append(info.condition_id)
            metadata.append(info.to_dict())
            tokens.extend(info.token_ids)
        tokens = list(dict.fromkeys(tokens))
        reference = list(dict.fromkeys(reference))
        if not tokens and not rtds and not reference and not sports:
            raise InvalidInputError("give at least one token id or market id to record")
        now = self._clock.time_ns()
        directory = self.directory if path is None else path.parent
        directory.mkdir(parents=True, exist_ok=True)
        if path is None:
            recording_id = new_recording_id(name or "rec", now, directory)
        else:
            recording_id = path.name.removesuffix(SUFFIX)
            if not recording_id or _NAME_RE.search(recording_id):
                raise InvalidInputError(f"recording file name {path.name!r} may use only letters, digits, _ . -")
            if (directory / f"{recording_id}{SUFFIX}").exists():
                raise InvalidInputError(f"{directory / (recording_id + SUFFIX)} exists; choose another --out")
        header = RecordingHeader(
            recording_id=recording_id,
            created_ns=now,
            name=name,
            token_ids=tokens,
            market_ids=conditions,
            rtds=[{"topic": t, "type": k} for t, k in rtds],
            reference=reference,
            sports=sports,
            markets=metadata,
            source=self._source,
        )
        writer = await anyio.to_thread.run_sync(
            lambda: RecordingWriter(directory, header, max_part_bytes=self._max_part_bytes, clock=self._clock)
        )
        keep = FrameFilter(
            set(tokens), set(conditions), {t for t, _ in rtds}, reference=set(reference), keep_sports=sports
        )
        recorder = Recorder(writer, frame_filter=keep, flush_interval_s=self._flush_interval_s, clock=self._clock)
        # Books that are already live get no new initial dump from a shared socket: write them first.
        for token in tokens:
            book = self._books.get(token)
            if book is not None and _live(book):
                recorder.tap("snapshot", now, book_frame(book))
        active = _Active(recorder, name, tokens, conditions, now, list(rtds), reference, sports)
        self._active[recording_id] = active
        self._task_group.start_soon(self._run, recording_id, active)
        try:
            if tokens:
                await self._feed.subscribe_assets(tokens)
            for topic, kind in rtds:
                await self._feed.subscribe_rtds(topic, kind)
            if reference:
                await self._feed.subscribe_reference_prices(reference)
            if sports:
                await self._feed.subscribe_sports()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop_recording(recording_id)
            raise
        pending = [t for t in tokens if not _live(self._books.get(t))]
        if pending:
            self._task_group.start_soon(self._backfill_rest_books, active, pending)
        logger.info("recording %s started: %d tokens -> %s", recording_id, len(tokens), writer.path)
        return self._info_active(recording_id, active)

    async def _backfill_rest_books(self, active: _Active, tokens: list[str]) -> None:
        """Record books that arrive by the REST snapshot fallback (not a frame, so the tap never saw them).

        A dynamic subscribe on a shared socket may get no ``book`` frame; the feed then fetches the book
        over REST. Such a book is written as a ``snapshot`` frame so the recording still has it.
        """
        pending = set(tokens)
        deadline = self._clock.monotonic() + self._backfill_s
        while pending and not active.done.is_set() and self._clock.monotonic() < deadline:
            await anyio.sleep(0.2)
            for token in list(pending):
                book = self._books.get(token)
                if _live(book):
                    assert book is not None
                    pending.discard(token)
                    if book.source == "rest":
                        active.recorder.tap("snapshot", self._clock.time_ns(), book_frame(book))
                        self.backfilled += 1

    async def _run(self, recording_id: str, active: _Active) -> None:
        try:
            with active.scope:
                await active.recorder.run()
        finally:
            await active.recorder.aclose()
            active.done.set()

    async def stop_recording(self, recording_id: str) -> RecordingInfo:
        """Stop, flush and close a recording; returns its final info."""
        active = self._active.get(recording_id)
        if active is None:
            raise NotFoundError(f"no active recording {recording_id!r}.", known=sorted(self._active))
        await active.recorder.aclose()
        active.scope.cancel()
        with anyio.fail_after(30):
            await active.done.wait()
        del self._active[recording_id]
        with contextlib.suppress(Exception):  # feed shutting down: the file is complete anyway
            if active.token_ids:
                await self._feed.unsubscribe_assets(active.token_ids)
            for topic, kind in active.rtds:
                await self._feed.unsubscribe_rtds(topic, kind)
            if active.reference:
                await self._feed.unsubscribe_reference_prices(active.reference)
            if active.sports:
                await self._feed.unsubscribe_sports()
        info = self._info_active(recording_id, active)
        info.state = "stopped"
        logger.info("recording %s stopped: %s frames", recording_id, info.frames)
        return info

    async def aclose(self) -> None:
        """Stop every active recording (server shutdown)."""
        for recording_id in list(self._active):
            await self.stop_recording(recording_id)

    # --- queries --------------------------------------------------------------------------------

    def active_ids(self) -> list[str]:
        return sorted(self._active)

    def info(self, recording_id: str) -> RecordingInfo:
        """Live info of an active recording."""
        active = self._active.get(recording_id)
        if active is None:
            raise NotFoundError(f"no active recording {recording_id!r}.", known=sorted(self._active))
        return self._info_active(recording_id, active)

    def path_of(self, recording_id: str) -> Path:
        """The first part of a recording in the recordings directory, by id, file name or (unique) name.

        Only files inside :attr:`directory` are reachable: a path (``/``, ``..``) is refused, so a tool
        caller cannot make the server read arbitrary files.

        Raises:
            InvalidInputError: ``recording_id`` is a path rather than an id.
            NotFoundError: no such recording (lists the known ids).
        """
        ref = recording_id.strip()
        stem = ref.removesuffix(SUFFIX)
        if not stem or "/" in stem or "\\" in stem or stem.startswith(".") or Path(stem).is_absolute():
            raise InvalidInputError(
                f"recording_id must be a recording id (or name) from list_recordings, not a path: "
                f"{recording_id!r}. Recordings live in {self.directory}."
            )
        candidate = self.directory / f"{stem}{SUFFIX}"
        if not _NAME_RE.search(stem) and candidate.is_file():
            return candidate
        listed = self.list_recordings().recordings
        named = [info for info in listed if info.name and info.name == ref]
        if len(named) == 1:
            return Path(named[0].path)
        known = [info.recording_id for info in listed]
        raise NotFoundError(f"no recording {recording_id!r} in {self.directory}.", known=known)

    def list_recordings(self) -> RecordingList:
        found: list[RecordingInfo] = []
        paths = sorted(self.directory.glob(f"*{SUFFIX}")) if self.directory.is_dir() else []
        for path in paths:
            parsed = recording_id_of(path)
            if parsed is None or parsed[1] != 0:
                continue
            recording_id = parsed[0]
            active = self._active.get(recording_id)
            if active is not None:
                found.append(self._info_active(recording_id, active))
                continue
            parts = recording_parts(path)
            size = sum(p.stat().st_size for p in parts)
            try:
                header = read_header(path)
            except RecordingError as exc:
                found.append(
                    RecordingInfo(
                        recording_id=recording_id, state="damaged", path=str(path), bytes=size, error=str(exc)
                    )
                )
                continue
            # Counts come from the parts' footers (tail reads only); a part without one (crash) leaves them unknown.
            footers = [read_footer(p) for p in parts]
            complete = [f for f in footers if f is not None]
            found.append(
                RecordingInfo(
                    recording_id=recording_id,
                    name=header.name,
                    state="stopped",
                    path=str(path),
                    token_ids=header.token_ids,
                    market_ids=header.market_ids,
                    started_at=_iso(header.created_ns),
                    frames=sum(f.frames for f in complete) if len(complete) == len(parts) else None,
                    dropped=complete[-1].dropped if len(complete) == len(parts) else None,
                    bytes=size,
                    parts=len(parts),
                )
            )
        return RecordingList(directory=str(self.directory), recordings=found)

    def _info_active(self, recording_id: str, active: _Active) -> RecordingInfo:
        writer = active.recorder.writer
        return RecordingInfo(
            recording_id=recording_id,
            name=active.name,
            state="recording",
            path=str(writer.path),
            token_ids=active.token_ids,
            market_ids=active.market_ids,
            started_at=_iso(active.started_ns),
            frames=active.recorder.stats.frames_kept,
            dropped=active.recorder.stats.dropped,
            bytes=writer.bytes_written,
            parts=len(writer.paths),
        )


def _live(book: OrderBook | None) -> bool:
    return book is not None and not book.stale


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
