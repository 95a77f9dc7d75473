"""The core-tool flow run against every transport (stdio in test_stdio.py, HTTP in test_http_mcp.py)."""

from __future__ import annotations

import time
from typing import Any

from mcp import Client

__all__ = ["call", "every_core_tool"]


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def every_core_tool(client: Client) -> None:
    """Search, look up, read a book, subscribe, read events in order, status, a resource, an error, unsubscribe."""
    started = time.monotonic()
    tools = {t.name for t in (await client.list_tools()).tools}
    assert time.monotonic() - started < 2.0  # a round trip on a live server is fast
    assert {"search_markets", "get_events", "get_realtime_status", "subscribe_market_prices"} <= tools

    status = await call(client, "get_realtime_status")
    # No token socket before a subscription. (The paper extension keeps one token-less "all markets"
    # socket for settlement, so the strict "no socket at all" check lives in test_mcp_notify.)
    assert status["connections"]["market"]["assets"] == 0
    found = await call(client, "search_markets", {"query": "will", "limit": 3})
    assert found["count"] >= 1
    market = await call(client, "get_market", {"market": found["markets"][0]["slug"]})
    token = market["outcomes"][0]["token_id"]
    book = await call(client, "get_order_book", {"token_id": token, "depth": 3})
    assert book["source"] == "rest" and book["bids"]

    sub = await call(client, "subscribe_orderbook_updates", {"token_ids": [token], "depth": 3})
    prices = await call(client, "subscribe_market_prices", {"market_ids": [market["condition_id"]]})
    assert sorted(prices["token_ids"]) == sorted(o["token_id"] for o in market["outcomes"])
    cursor, seen = 0, []
    while len(seen) < 5:
        page = await call(
            client, "get_events", {"subscription_id": sub["subscription_id"], "after_seq": cursor, "wait_s": 5}
        )
        seen.extend(page["events"])
        cursor = page["next_seq"]
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    status = await call(client, "get_realtime_status")
    assert status["connections"]["market"]["state"] == "connected"
    assert status["subscriptions"]["total"] == 2

    res = await client.read_resource("polymarket://status")
    assert res.contents

    bad = await client.call_tool("get_events", {"subscription_id": "nope"})
    assert bad.is_error and sub["subscription_id"] in str(bad.content)
    done = await call(client, "unsubscribe_realtime", {"all": True})
    assert sorted(done["removed"]) == sorted([sub["subscription_id"], prices["subscription_id"]])
