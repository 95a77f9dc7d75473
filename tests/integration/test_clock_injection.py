"""The MCP layer reads the injected clock (issue 12 item 5): time the test sets is the time tools report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration._mcp_harness import running

pytestmark = pytest.mark.anyio

WALL_NS = 1_800_000_000 * 10**9


class SetClock:
    """Time moves only when the test sets it."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall_ns = WALL_NS

    def monotonic(self) -> float:
        return self.mono

    def time_ns(self) -> int:
        return self.wall_ns


async def test_uptime_and_rest_book_times_follow_the_injected_clock(tmp_path: Path) -> None:
    clock = SetClock()
    async with running(tmp_path, clock=clock) as h:
        clock.mono += 42.5
        status = await h.call("get_realtime_status")
        assert status["statistics"]["uptime_s"] == 42.5
        # Not subscribed: a one-off REST snapshot, received and viewed at the injected wall time.
        book = await h.call("get_order_book", {"token_id": h.market(0).token_ids[0]})
        assert book["source"] == "rest"
        assert book["age_s"] == 0.0
        assert h.server is not None
