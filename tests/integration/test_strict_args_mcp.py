"""Unknown arguments through the MCP Client: refused with the closest valid name, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymarket_realtime.server.ext_paper import PaperExtension

from ._mcp_harness import running

pytestmark = pytest.mark.anyio


async def test_misspelled_depth_is_refused_not_ignored(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        yes, _no = h.market(0).token_ids
        text = await h.call_error("get_order_book", {"token_id": yes, "levels": 5})
        assert text == (
            "get_order_book: unknown argument 'levels'; did you mean 'depth'? Valid arguments: token_id, depth."
        )
        # Existing validation keeps its text.
        text = await h.call_error("get_order_book", {"token_id": yes, "depth": 0})
        assert "depth must be between 1 and 100 price levels per side (got 0)" in text
        book = await h.call("get_order_book", {"token_id": yes, "depth": 1})
        assert len(book["bids"]) <= 1


async def test_misspelled_subscription_argument_creates_no_subscription(tmp_path: Path) -> None:
    async with running(tmp_path) as h:
        yes, _no = h.market(0).token_ids
        text = await h.call_error("subscribe_market_prices", {"tokenids": [yes]})
        assert "unknown argument 'tokenids'; did you mean 'token_ids'?" in text
        assert "Valid arguments: token_ids, market_ids, callback_type." in text
        text = await h.call_error("get_events", {"subscription_id": "x", "cursor": 3, "timeout": 5})
        assert "'cursor' (did you mean 'after_seq'?)" in text and "'timeout' (did you mean 'wait_s'?)" in text
        status = await h.call("get_realtime_status")
        assert status["subscriptions"]["total"] == 0
        assert h.sim.observed.opened["/ws/market"] == 0
        text = await h.call_error("get_realtime_status", {"verbose": True})
        assert "get_realtime_status takes no arguments" in text


async def test_misspelled_paper_argument_creates_no_session(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes, _no = h.market(0).token_ids
        text = await h.call_error("create_paper_session", {"name": "t", "token_ids": [yes], "cash": 50})
        assert "unknown argument 'cash'; did you mean 'starting_cash'?" in text
        listed = await h.call("list_paper_sessions")
        assert listed["sessions"] == []


async def test_a_tool_added_later_is_strict_too(tmp_path: Path) -> None:
    async with running(tmp_path) as h:

        @h.server.tool(description="test only")
        async def scale(value: int, factor: int = 2) -> int:
            return value * factor

        assert (await h.client.call_tool("scale", {"value": 3})).structured_content == {"result": 6}
        text = await h.call_error("scale", {"value": 3, "factr": 3})
        assert "unknown argument 'factr'; did you mean 'factor'? Valid arguments: value, factor." in text
        tool = {t.name: t for t in (await h.client.list_tools()).tools}["scale"]
        assert tool.input_schema["additionalProperties"] is False
