"""The recording file format: gzip members of JSON lines, each member independently valid.

Layout of one part file (``<id>.jsonl.gz``, then ``<id>.p0001.jsonl.gz`` ... after rotation)::

    member 0:  {"format": "polymarket-realtime-recording", "version": 1, ...header...}\\n
    member 1:  [ts_recv_ns, "market", "<raw frame text>"]\\n  ... (at most ~1 s of frames)
    member 2:  ...
    last:      {"footer": true, "frames": N, ...}\\n   (only when the part was closed cleanly)

Contract:

* Every line is one JSON value. A frame line is an array ``[ts_recv_ns, channel, data]``; a binary
  frame (rare) is ``[ts_recv_ns, channel, base64, true]``. Header and footer lines are objects.
* ``data`` is the frame **exactly as received** (text), ``channel`` is ``market``, ``user``, ``rtds``,
  ``sports`` (game updates; the server's ``ping`` heartbeats are not kept) or ``snapshot`` (a synthetic
  ``book`` frame written at start when the book was already live, because a shared socket does not send
  a second initial dump), ``ts_recv_ns`` the local wall-clock receive time.
* Each flush writes one complete gzip member (with its own CRC), so a crash mid-write damages only the
  last member: every earlier member stays readable. ``zcat file`` prints plain JSON lines.
* Readers verify each member's CRC before yielding any of its lines (see :mod:`.reader`).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Final

import msgspec

from ..venues.polymarket import polybolt

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SUFFIX",
    "FrameFilter",
    "RawFrame",
    "RecordingFooter",
    "RecordingHeader",
    "compress_member",
    "decode_footer",
    "decode_frame_line",
    "decode_header",
    "encode_frame_line",
    "encode_meta_line",
    "frame_keys",
    "part_path",
    "recording_id_of",
]

FORMAT_NAME: Final = "polymarket-realtime-recording"
FORMAT_VERSION: Final = 1
SUFFIX: Final = ".jsonl.gz"
_PART_RE = re.compile(r"^(?P<id>.+?)(?:\.p(?P<part>\d{4,}))?\.jsonl\.gz$")


class RawFrame(msgspec.Struct, frozen=True, array_like=True, omit_defaults=True, gc=False):
    """One received frame. ``data`` is text, or bytes for a binary frame (``binary`` true on disk)."""

    ts_recv_ns: int
    channel: str
    data: str | bytes

    def text(self) -> str:
        """The frame as text (binary frames decoded as UTF-8, replacing invalid bytes)."""
        return self.data if isinstance(self.data, str) else self.data.decode("utf-8", "replace")


class _Line(msgspec.Struct, array_like=True, omit_defaults=True, gc=False):
    ts_recv_ns: int
    channel: str
    data: str
    binary: bool = False


class RecordingHeader(msgspec.Struct, kw_only=True, omit_defaults=True):
    """First line of every part. ``markets`` holds venue metadata dicts (question, slug, tokens...)."""

    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION
    recording_id: str
    part: int = 0
    created_ns: int
    name: str = ""
    token_ids: list[str] = msgspec.field(default_factory=list)
    market_ids: list[str] = msgspec.field(default_factory=list)
    rtds: list[dict[str, str]] = msgspec.field(default_factory=list)
    reference: list[str] = msgspec.field(default_factory=list)
    """PolyBolt reference-price subscriptions (``"crypto:btcusd"``...); their frames have channel ``polybolt``."""
    sports: bool = False
    """The recording holds the sports socket's game updates."""
    markets: list[dict[str, object]] = msgspec.field(default_factory=list)
    source: str = ""
    """Where the frames came from (the market socket URL with any query string removed)."""


class RecordingFooter(msgspec.Struct, kw_only=True, omit_defaults=True):
    footer: bool = True
    frames: int
    """Frames in this part."""
    dropped: int = 0
    """Frames the recorder dropped because its buffer was full (whole recording so far)."""
    ended_ns: int
    next_part: str | None = None
    """File name of the next part when this one was closed by rotation."""


_encoder = msgspec.json.Encoder()
_line_decoder = msgspec.json.Decoder(_Line)
_header_decoder = msgspec.json.Decoder(RecordingHeader)
_footer_decoder = msgspec.json.Decoder(RecordingFooter)


def encode_frame_line(channel: str, ts_recv_ns: int, frame: str | bytes) -> bytes:
    """One JSON line (with the trailing newline) for a received frame."""
    if isinstance(frame, str):
        line = _Line(ts_recv_ns, channel, frame)
    else:
        line = _Line(ts_recv_ns, channel, base64.b64encode(frame).decode("ascii"), True)
    return _encoder.encode(line) + b"\n"


def encode_meta_line(meta: RecordingHeader | RecordingFooter) -> bytes:
    return _encoder.encode(meta) + b"\n"


def decode_frame_line(line: bytes) -> RawFrame:
    """Decode a frame line; raises ``msgspec.ValidationError``/``DecodeError`` on a bad line."""
    raw = _line_decoder.decode(line)
    if raw.binary:
        return RawFrame(raw.ts_recv_ns, raw.channel, base64.b64decode(raw.data))
    return RawFrame(raw.ts_recv_ns, raw.channel, raw.data)


def decode_header(line: bytes) -> RecordingHeader:
    header = _header_decoder.decode(line)
    if header.format != FORMAT_NAME:
        raise msgspec.ValidationError(f"not a recording (format {header.format!r})")
    if header.version > FORMAT_VERSION:
        raise msgspec.ValidationError(f"recording format version {header.version} is newer than {FORMAT_VERSION}")
    return header


def decode_footer(line: bytes) -> RecordingFooter:
    return _footer_decoder.decode(line)


def compress_member(payload: bytes, level: int = 6) -> bytes:
    """``payload`` as one complete gzip member (header, deflate stream, CRC32 and size trailer)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(payload) + compressor.flush()


def part_path(directory: Path, recording_id: str, part: int) -> Path:
    """Path of part ``part`` (0 is the first file, the one users pass around)."""
    if part == 0:
        return directory / f"{recording_id}{SUFFIX}"
    return directory / f"{recording_id}.p{part:04d}{SUFFIX}"


def recording_id_of(path: Path) -> tuple[str, int] | None:
    """``(recording_id, part)`` for a recording file name, or None when the name does not match."""
    match = _PART_RE.match(path.name)
    if match is None:
        return None
    return match["id"], int(match["part"] or 0)


# Frame routing keys. Venue frames are compact JSON, but tolerate whitespace around the colon.
_ASSET_RE = re.compile(r'"(?:asset_id|market|id)"\s*:\s*"([^"]+)"')
_TOPIC_RE = re.compile(r'"topic"\s*:\s*"([^"]+)"')


def frame_keys(frame: str) -> set[str]:
    """Token ids and condition ids (``asset_id``/``market`` values) mentioned anywhere in ``frame``."""
    return set(_ASSET_RE.findall(frame))


class FrameFilter:
    """Decides which tapped frames a recording keeps (the tap sees every frame of a shared socket).

    User-channel frames are never kept (they carry the account's API key).

    Args:
        token_ids: keep market frames mentioning any of these tokens.
        market_ids: keep market frames mentioning any of these condition ids.
        rtds_topics: keep RTDS frames of these topics (``"*"`` keeps all RTDS frames).
        keep_all_market: keep every market-channel data frame (no token filter).
        reference: keep PolyBolt data frames of these ``"channel:symbol[:provider]"`` keys.
        keep_sports: keep the sports socket's game updates (never its ``ping`` heartbeats).
    """

    def __init__(
        self,
        token_ids: frozenset[str] | set[str] = frozenset(),
        market_ids: frozenset[str] | set[str] = frozenset(),
        rtds_topics: frozenset[str] | set[str] = frozenset(),
        *,
        keep_all_market: bool = False,
        reference: frozenset[str] | set[str] = frozenset(),
        keep_sports: bool = False,
    ) -> None:
        self.keys = frozenset(token_ids) | frozenset(market_ids)
        self.rtds_topics = frozenset(rtds_topics)
        self.keep_all_market = keep_all_market
        # PolyBolt frames are matched on (channel, symbol); acks are skipped (nothing to replay).
        self.reference = frozenset(
            (polybolt.CHANNELS[k.split(":")[0]], k.split(":")[1])
            for k in reference
            if k.split(":")[0] in polybolt.CHANNELS
        )
        self.keep_sports = keep_sports

    def __call__(self, channel: str, frame: str | bytes) -> bool:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        stripped = text.strip()
        # Keepalive replies and empty acks carry no market data.
        if stripped in {"PONG", "pong", "[]", ""}:
            return False
        if channel == "user":
            # User frames carry the account's API key (``owner``): credentials never go to disk.
            return False
        if channel == "sports":
            return self.keep_sports and stripped[:1] in ("{", "[")
        if channel == "rtds":
            if not self.rtds_topics:
                return False
            return "*" in self.rtds_topics or bool(self.rtds_topics.intersection(_TOPIC_RE.findall(text)))
        if channel == "polybolt":
            return bool(self.reference) and _polybolt_series(text) in self.reference
        if channel == "market" and self.keep_all_market:
            return True
        return not self.keys.isdisjoint(frame_keys(text))


def _polybolt_series(text: str) -> tuple[str, str] | None:
    """(wire channel, symbol) of a PolyBolt data envelope; None for acks and anything else."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or "op" in obj:
        return None
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        return None
    return str(obj.get("channel", "")), str(payload.get("symbol", "")).lower()
