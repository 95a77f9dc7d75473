"""``serve --replay FILE --speed max``: the shipped recording feeds the real server over stdio."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from polymarket_realtime.recording.reader import RecordingReader

FIXTURE = Path(__file__).parents[1] / "fixtures" / "recordings" / "sim_seed7.jsonl.gz"


async def _call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.anyio
async def test_serve_replay_feeds_tools_over_stdio(tmp_path: Path) -> None:
    header = RecordingReader(FIXTURE).read_header()
    token = header.token_ids[0]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "polymarket_realtime", "serve", "--replay", str(FIXTURE), "--speed", "max", "--sim-seed", "7"],
        env={"POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"), "POLYMARKET_MCP_TOOLSETS": "market,realtime"},
        cwd=str(tmp_path),
    )
    with anyio.fail_after(60):
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            # Gamma comes from the simulator model with the recording's seed: the token is a known market.
            market = await _call(client, "get_market", {"market": token})
            assert token in [o["token_id"] for o in market["outcomes"]]
            sub = await _call(client, "subscribe_orderbook_updates", {"token_ids": [token], "depth": 2})
            cursor, seen = 0, []
            while not any(e["type"] == "book" for e in seen) or len(seen) < 20:
                page = await _call(
                    client, "get_events", {"subscription_id": sub["subscription_id"], "after_seq": cursor, "wait_s": 5}
                )
                seen.extend(page["events"])
                cursor = page["next_seq"]
            assert {e["token_id"] for e in seen if e["type"] != "feed_status"} == {token}
            book = await _call(client, "get_order_book", {"token_id": token, "depth": 3})
            assert book["bids"] and book["asks"]
