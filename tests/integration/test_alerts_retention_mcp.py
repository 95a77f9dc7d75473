""" "Tell me when it moves 2 cents" through MCP against the simulator: find, watch, alert in three tool calls."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from polymarket_realtime.server.ext_paper import PaperExtension
from polymarket_realtime.storage import activity as activity_db
from polymarket_realtime.storage.db import Database

from ._mcp_harness import running

pytestmark = pytest.mark.anyio


async def test_find_watch_and_alert_on_a_two_cent_move(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        h.sim.pause()  # no random flow: only the moves below change the price
        market = h.market(0)
        h.sim.move_price(market.condition_id, 5_000)  # YES mid 0.50 (bid 0.49, ask 0.51)

        # The three calls a model makes.
        found = await h.call("search_markets", {"query": market.slug, "limit": 1})
        yes = found["markets"][0]["outcomes"][0]["token_id"]
        await h.call("subscribe_orderbook_updates", {"token_ids": [yes], "depth": 1})
        started = await h.call("start_agent", {"kind": "price_alert", "config": {"token_id": yes, "move": 0.02}})
        aid = started["agent_id"]
        assert started["config"] == {
            "token_id": yes,
            "condition": "move",
            "move": "0.02",
            "move_mode": "absolute",
            "direction": "either",
            "repeat": False,
            "source": "mid",
        }

        agents = h.server.running_app().require_agents()

        def stats() -> dict[str, object]:
            return agents.view(aid).stats

        # The reference is the mid when the alert started (from the live book, or the first snapshot).
        assert await agents.changed.wait_for(lambda: stats()["reference"] is not None, 10)
        assert stats()["reference"] == "0.50"

        h.sim.move_price(market.condition_id, 5_100)  # 1 cent: no alert
        assert await agents.changed.wait_for(lambda: stats()["last_price"] == "0.51", 10)
        assert stats()["fired"] == 0 and agents.view(aid).state == "running"

        h.sim.move_price(market.condition_id, 5_200)  # 2 cents from the start: one alert
        assert await agents.changed.wait_for(lambda: agents.view(aid).state == "stopped", 10)
        agent = await h.call("get_agent", {"agent_id": aid})
        assert agent["state_reason"] == "one-shot alert fired"
        assert agent["stats"]["fired"] == 1 and agent["stats"]["last_fired_price"] == "0.52"
        page = await h.call("get_activity", {"after_seq": 0, "limit": 500})
        alerts = [e for e in page["entries"] if e["kind"] == "alert" and e["subject"] == aid]
        assert len(alerts) == 1 and alerts[0]["data"]["price"] == "0.52"
        assert "moved up 0.02 (threshold 0.02) from 0.50" in alerts[0]["message"]


async def test_bad_move_config_is_refused_with_nothing_created(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes = h.market(0).token_ids[0]
        err = await h.call_error("start_agent", {"kind": "price_alert", "config": {"token_id": yes, "move": 2}})
        assert "too large for an absolute move" in err and "0.02" in err
        err = await h.call_error(
            "start_agent", {"kind": "price_alert", "config": {"token_id": yes, "move": 0.02, "price": 0.5}}
        )
        assert "config.price does not apply to condition 'move'" in err
        assert (await h.call("list_agents"))["agents"] == []


async def test_system_status_reports_database_size_and_startup_prune(tmp_path: Path) -> None:
    with Database(tmp_path / "state.sqlite3") as db:  # history left by an earlier run: 5 entries from 1970
        for i in range(5):
            db.write_sync(lambda c, i=i: activity_db.insert_activity(c, 1 + i, "system_started", "system", f"old {i}"))
        db.write_sync(lambda c: activity_db.insert_activity(c, time.time_ns(), "system_started", "system", "recent"))
    async with running(tmp_path, extensions=[PaperExtension()], retention_days=7.0) as h:
        retention = h.server.running_app().require_system().retention
        assert retention is not None and retention.policy.max_age_days == 7.0
        assert await retention.changed.wait_for(lambda: retention.runs >= 1, 10)  # the pass run at start-up
        storage = (await h.call("get_system_status"))["storage"]
        size = storage["size"]
        assert size["file_bytes"] > 0 and size["total_bytes"] == size["file_bytes"] + size["wal_bytes"]
        assert storage["retention"]["last_prune"]["deleted"]["activity"] == 5
        assert storage["retention"]["policy"]["activity_rows"] == 20_000
        page = await h.call("get_activity", {"after_seq": 0, "limit": 10})
        assert [e["message"] for e in page["entries"]] == ["recent"]


async def test_start_agent_refuses_a_misspelt_config_key_and_creates_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes = h.market(0).tokens[0].token_id
        bad = {"token_id": yes, "move": 0.02, "directon": "up", "repeats": True}
        err = await h.call_error("start_agent", {"kind": "price_alert", "config": bad})
        assert "config.directon (did you mean 'direction'?)" in err
        assert "config.repeats (did you mean 'repeat'?)" in err
        assert "Valid config keys: token_id, condition, price, move, move_mode, direction, repeat, source" in err
        err = await h.call_error("start_agent", {"kind": "market_scanner", "config": {"top": 3}})
        assert "config.top (did you mean 'top_n'?)" in err
        err = await h.call_error(
            "start_agent", {"kind": "strategy", "config": {"token_id": yes, "param": {}}, "session_id": "ps-x"}
        )
        assert "config.param (did you mean 'params'?)" in err
        listed = await h.call("list_agents", {})
        assert listed["agents"] == []
        page = await h.call("get_activity", {"after_seq": 0, "limit": 500})
        assert not [e for e in page["entries"] if e["kind"] == "agent_started"]
