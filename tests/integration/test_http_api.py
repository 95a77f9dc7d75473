"""The JSON API over real HTTP against the simulator: the MCP tools' results, validation and errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration._http_harness import serving

pytestmark = pytest.mark.anyio


async def test_sessions_orders_and_errors(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        created = await h.ok("POST", "/api/sessions", {"name": "api", "starting_cash": "500", "token_ids": [token]})
        sid = created["session_id"]
        assert created["state"] == "running" and created["cash"] == "500"
        listed = await h.ok("GET", "/api/sessions")
        assert [s["session_id"] for s in listed["sessions"]] == [sid]

        placed = await h.ok(
            "POST",
            f"/api/sessions/{sid}/orders",
            {"token_id": token, "side": "BUY", "size": "5", "order_type": "market"},
        )
        assert placed["order"]["status"] == "filled" and placed["fills"]
        # One saved equity point per fill, oldest first, bounded by ?limit=.
        more = {"token_id": token, "side": "BUY", "size": "3", "order_type": "market"}
        await h.ok("POST", f"/api/sessions/{sid}/orders", more)
        equity = await h.ok("GET", f"/api/sessions/{sid}/equity")
        assert equity["session_id"] == sid and len(equity["points"]) == 2, equity
        first, last = equity["points"]
        assert first["ts_ms"] <= last["ts_ms"] and Decimal(last["cash"]) < Decimal(first["cash"]) < Decimal("500")
        assert all(Decimal(p["equity"]) > 0 for p in equity["points"])
        assert (await h.ok("GET", f"/api/sessions/{sid}/equity?limit=1"))["points"] == [last]
        for bad_limit in ("0", "1001", "x"):
            refused = await h.get(f"/api/sessions/{sid}/equity?limit={bad_limit}")
            assert refused.status_code == 400 and "limit" in refused.json()["detail"], bad_limit
        assert (await h.get("/api/sessions/ps-nope/equity")).status_code == 404
        resting = await h.ok(
            "POST",
            f"/api/sessions/{sid}/orders",
            {"token_id": token, "side": "BUY", "size": "5", "order_type": "limit", "limit_price": "0.01"},
        )
        order_id = resting["order"]["order_id"]
        orders = await h.ok("GET", f"/api/sessions/{sid}/orders")
        assert [o["order_id"] for o in orders["orders"]] == [order_id]
        cancelled = await h.ok("POST", f"/api/sessions/{sid}/orders/{order_id}/cancel")
        assert cancelled["status"] == "cancelled"

        # The same validation and messages as the MCP tools, with the matching status codes.
        bad = await h.post("/api/sessions", {"name": "x", "token_ids": ["abc"]})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
        assert "is not a token id" in bad.json()["detail"]
        wrong_type = await h.post(f"/api/sessions/{sid}/orders", {"token_id": token, "side": "HOLD", "size": "1"})
        assert wrong_type.status_code == 400 and "side" in wrong_type.json()["detail"]
        not_json = await h.http.post(h.base + "/api/sessions", content=b"[1,", headers=h.auth)
        assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_input"
        missing = await h.get("/api/sessions/ps-nope")
        assert missing.status_code == 404 and "Unknown paper session 'ps-nope'" in missing.json()["detail"]
        again = await h.post(f"/api/sessions/{sid}/orders/{order_id}/cancel")
        assert again.status_code == 404
        resume_running = await h.post(f"/api/sessions/{sid}/resume")
        assert resume_running.status_code == 409 and resume_running.json()["error"] == "wrong_state"

        assert (await h.ok("POST", f"/api/sessions/{sid}/pause"))["state"] == "paused"
        assert (await h.ok("POST", "/api/sessions/resume_all"))["changed"] == [sid]
        assert (await h.ok("POST", "/api/sessions/pause_all"))["changed"] == [sid]
        assert (await h.ok("POST", f"/api/sessions/{sid}/resume"))["state"] == "running"
        assert (await h.ok("POST", f"/api/sessions/{sid}/stop"))["state"] == "stopped"
        get_only = await h.get(f"/api/sessions/{sid}/stop")
        assert get_only.status_code == 405  # state changes only through POST


async def test_system_agents_presets_activity_markets(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        status = await h.ok("GET", "/api/system")
        assert status["switch"] == "running"
        agent = await h.ok(
            "POST",
            "/api/agents",
            {"kind": "price_alert", "config": {"token_id": token, "condition": "above", "price": 0.99}},
        )
        aid = agent["agent_id"]
        assert (await h.ok("GET", f"/api/agents/{aid}"))["state"] == "running"
        assert [a["agent_id"] for a in (await h.ok("GET", "/api/agents"))["agents"]] == [aid]
        bad_kind = await h.post("/api/agents", {"kind": "nope", "config": {}})
        assert bad_kind.status_code == 400

        stopped = await h.ok("POST", "/api/system/stop")
        assert stopped["switch"] == "stopped" and stopped["agents"] == [aid]
        twice = await h.post("/api/system/stop")
        assert twice.status_code == 409 and "already stopped" in twice.json()["detail"]
        refused = await h.post(f"/api/agents/{aid}/start")
        assert refused.status_code == 409 and "master switch" in refused.json()["detail"]
        assert (await h.ok("POST", "/api/system/start"))["agents"] == [aid]
        assert (await h.ok("POST", f"/api/agents/{aid}/stop"))["state"] == "stopped"
        assert (await h.ok("POST", f"/api/agents/{aid}/start"))["state"] == "running"
        assert (await h.post("/api/agents/ag-nope/stop")).status_code == 404

        logs = await h.ok("GET", f"/api/agents/{aid}/logs?lines=10")
        assert logs["agent_id"] == aid
        bad_lines = await h.get(f"/api/agents/{aid}/logs?lines=0")
        assert bad_lines.status_code == 400 and "lines must be between 1" in bad_lines.json()["detail"]
        not_int = await h.get(f"/api/agents/{aid}/logs?lines=many")
        assert not_int.status_code == 400
        download = await h.get(f"/api/agents/{aid}/logs/download")
        assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]

        presets = await h.ok("POST", "/api/presets", {"name": "mine", "weights": {"spread": 2}})
        assert "mine" in presets["presets"]
        assert "mine" in (await h.ok("GET", "/api/presets"))["presets"]
        assert "mine" not in (await h.ok("POST", "/api/presets/mine/delete"))["presets"]
        assert (await h.post("/api/presets/mine/delete")).status_code == 404

        activity = await h.ok("GET", "/api/activity?after_seq=0&limit=500")
        kinds = [e["kind"] for e in activity["entries"]]
        assert "agent_started" in kinds and "system_stopped" in kinds
        assert (await h.get("/api/activity?limit=0")).status_code == 400

        question = h.market().question
        found = await h.ok("GET", f"/api/markets/search?q={' '.join(question.split()[:3])}&limit=3")
        assert found["count"] >= 1
        book = await h.ok("GET", f"/api/books/{token}?depth=2")
        assert book["token_id"] == token and len(book["bids"]) <= 2
        assert (await h.get("/api/books/0xabc")).status_code == 400

        missing = await h.get("/static/no-such-file.js")
        assert missing.status_code == 404
        whoami = await h.ok("GET", "/api/whoami")
        assert whoami["server"] == "polymarket-realtime-mcp" and whoami["owner"] is True and whoami["redis"] is False
        metrics = await h.get("/api/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        expected = [
            "pmrt_uptime_seconds",
            "pmrt_feed_connections",
            "pmrt_feed_events_per_second",
            "pmrt_router_sink_dropped_total",
            "pmrt_ws_clients",
            "pmrt_ws_messages_sent_total",
            "pmrt_ws_dropped_clients_total",
            'pmrt_agents{state="running"} 1',
            "pmrt_paper_sessions",
        ]
        for name in expected:
            assert name in text, name


async def test_the_api_follows_the_services_not_the_models_toolsets(tmp_path: Path) -> None:
    # The model is offered no agent tools here, but the agent service runs: the dashboard can use it.
    async with serving(tmp_path / "a", toolsets=frozenset({"market", "paper"})) as h:
        tools = {t.name for t in await h.server.list_tools()}
        assert "start_agent" not in tools and "create_paper_session" in tools
        assert (await h.ok("GET", "/api/agents"))["agents"] == []
    # No paper extension at all: its routes say the service is not running here.
    async with serving(tmp_path / "b", toolsets=frozenset({"market", "realtime"})) as h:
        missing = await h.get("/api/sessions")
        assert missing.status_code == 503 and missing.json()["error"] == "unavailable"
        assert (await h.ok("GET", "/api/markets/search?q=will&limit=1"))["count"] == 1
