"""A subscription survives a venue disconnect: dense sequence numbers, a feed_status event, data again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._mcp_harness import running

pytestmark = pytest.mark.anyio


async def test_subscription_survives_a_venue_reconnect(tmp_path: Path) -> None:
    async with running(tmp_path, reconnect_base_s=0.05, reconnect_max_s=0.5) as h:
        token = h.market(0).token_ids[0]
        sub = await h.call("subscribe_orderbook_updates", {"token_ids": [token], "depth": 3})
        sid = sub["subscription_id"]
        before, cursor = await h.events_until(sid, lambda evs: sum(e["type"] != "feed_status" for e in evs) >= 3)

        assert h.sim.faults.drop_all() >= 1

        def recovered(evs: list[dict[str, object]]) -> bool:
            states = [e for e in evs if e["type"] == "feed_status"]
            if not states:
                return False
            last_status = max(e["seq"] for e in states)  # type: ignore[type-var]
            return any(e["type"] == "book" and e["seq"] > last_status for e in evs)  # type: ignore[operator]

        after, _ = await h.events_until(sid, recovered, after_seq=cursor, within_s=20)
        seqs = [e["seq"] for e in before + after]
        assert seqs == list(range(1, len(seqs) + 1))  # no gaps, no duplicates across the reconnect
        statuses = [e["data"]["state"] for e in after if e["type"] == "feed_status"]
        assert "disconnected" in statuses or "stale" in statuses
        status = await h.call("get_realtime_status")
        assert status["connections"]["market"]["reconnects"] >= 1
        assert status["statistics"]["reconnect_count"] >= 1
        book = await h.call("get_order_book", {"token_id": token})
        assert book["source"] == "ws" and book["stale"] is False
