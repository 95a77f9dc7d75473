"""Small pure helpers for Redis stream ids and replies (no I/O)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = ["ZERO_ID", "id_gt", "parse_id", "safe_url", "text", "xread_pairs"]

ZERO_ID = "0-0"


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def id_gt(a: str, b: str) -> bool:
    """``a > b`` for stream ids ``"<ms>-<seq>"``."""
    return parse_id(a) > parse_id(b)


def xread_pairs(reply: Any) -> list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]]:
    """Normalize an ``XREAD`` reply (RESP2 list or RESP3 dict) to ``[(stream, [(id, fields)])]``."""
    if not reply:
        return []
    items = reply.items() if isinstance(reply, dict) else reply
    out: list[tuple[str, list[tuple[str, dict[bytes, bytes]]]]] = []
    for stream, entries in items:
        if isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], list):
            entries = entries[0]  # RESP3 wraps the entry list once more
        out.append((text(stream), [(text(eid), fields) for eid, fields in entries]))
    return out


def safe_url(url: str) -> str:
    """``"<scheme> <host>:<port>"``: where Redis is, without credentials, path or query.

    Deliberately not a URL: the configured URL is a registered secret and the redactor would mask an
    identical string in logs and tool output.
    """
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix {parts.path}"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme} {host}"
