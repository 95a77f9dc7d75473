"""Live end to end through MCP (needs internet): `pytest -m slow tests/live/test_live_mcp.py`.

Spawns `polymarket-realtime-mcp serve` against production and drives it like Claude Desktop does:
search, subscribe, read events with a long-poll, read the book.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.slow, pytest.mark.live, pytest.mark.anyio]


async def _call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def test_live_search_subscribe_and_read_events(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POLYMARKET_", "POLYGON_"))  # production endpoints, no credentials
    }
    env |= {"POLYMARKET_MCP_DATA_DIR": str(tmp_path), "POLYMARKET_MCP_TOOLSETS": "market,realtime"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "polymarket_realtime", "serve"], env=env)
    async with Client(params, mode="legacy", read_timeout_seconds=60) as client:
        found = await _call(client, "search_markets", {"query": "bitcoin", "limit": 10})
        markets = [m for m in found["markets"] if all(o["token_id"] for o in m["outcomes"])]
        assert markets, "no active market with order-book tokens found for 'bitcoin'"
        tokens = [o["token_id"] for o in markets[0]["outcomes"]]
        sub = await _call(client, "subscribe_orderbook_updates", {"token_ids": tokens, "depth": 5})
        page = await _call(client, "get_events", {"subscription_id": sub["subscription_id"], "wait_s": 20})
        assert page["events"], "no event within 20 s of subscribing"
        assert [e["seq"] for e in page["events"]] == list(range(1, len(page["events"]) + 1))
        book = await _call(client, "get_order_book", {"token_id": tokens[0], "depth": 5})
        assert book["source"] in {"ws", "rest"}
        if book["best_bid"] is not None and book["best_ask"] is not None:
            assert float(book["best_bid"]) < float(book["best_ask"])
        status = await _call(client, "get_realtime_status", {})
        assert status["connections"]["market"]["state"] == "connected"
        await _call(client, "unsubscribe_realtime", {"subscription_id": sub["subscription_id"]})
