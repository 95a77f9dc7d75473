"""ISO-8601 dates (Gamma comments, the sports socket) to Unix ms: one function (model/timeunits.py)."""

from __future__ import annotations

from polymarket_realtime.model.timeunits import iso_to_ms
from polymarket_realtime.venues.polymarket.gamma_parse import parse_comment


def test_iso_dates_with_z_or_offset_and_garbage() -> None:
    assert iso_to_ms("2025-02-03T20:15:30.123Z") == 1_738_613_730_123
    assert iso_to_ms(" 2025-02-03T21:15:30.123+01:00 ") == 1_738_613_730_123
    assert iso_to_ms("") == 0
    assert iso_to_ms("yesterday") == 0


def test_a_gamma_comment_row_becomes_a_comment_event() -> None:
    row = {"id": 7, "body": "hi", "userAddress": "0xabc", "createdAt": "2025-02-03T20:15:30.123Z"}
    comment = parse_comment("42", row, 5)
    assert (comment.comment_id, comment.entity_id, comment.ts_event_ms, comment.ts_recv_ns) == (
        "7",
        "42",
        1_738_613_730_123,
        5,
    )
    assert parse_comment("42", {"createdAt": None}, 5).ts_event_ms == 0
