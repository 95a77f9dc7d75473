"""The user toolset end to end through MCP (``Client(server)`` in process) against the simulator:
derive -> subscribe -> order/trade lifecycles -> trade history -> REST reads -> reconnect with re-auth."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx2
import pytest

from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import SimAccount, SimulatorConfig

from ._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
USER_TOOLS = {
    "subscribe_user_orders",
    "subscribe_user_trades",
    "get_user_trade",
    "get_open_orders",
    "get_recent_trades",
    "diagnose_connection",
}
FAST: dict[str, Any] = {
    "ping_interval_s": 0.2,
    "pong_timeout_s": 1.0,
    "reconnect_base_s": 0.05,
    "reconnect_max_s": 0.5,
}


def sim_config(**changes: Any) -> SimulatorConfig:
    return SimulatorConfig(
        seed=11,
        markets=3,
        rate_per_s=5.0,
        resolve_after_s=None,
        rtds_rate_per_s=0.0,
        account=SimAccount(lifecycle_every_s=None, step_delay_s=0.02),
        **changes,
    )


async def start_trade(h: Harness, market: str | None = None) -> list[str]:
    async with httpx2.AsyncClient(timeout=10.0) as http:
        response = await http.post(h.sim.rest_url + "/_sim/user/trade", json={"market": market} if market else {})
    ids: list[str] = response.json()["trade_ids"]
    assert ids, response.text
    return ids


def statuses(events: list[dict[str, Any]], trade_id: str) -> list[str]:
    return [e["data"]["status"] for e in events if e["type"] == "user_trade" and e["data"]["trade_id"] == trade_id]


async def confirmed_trade(h: Harness, sub_id: str, *, after_seq: int = 0) -> tuple[str, list[dict[str, Any]], int]:
    """Start lifecycles until one ends CONFIRMED (some end FAILED by design); return its id and events."""
    cursor = after_seq
    for _ in range(8):
        (trade_id,) = await start_trade(h)
        events, cursor = await h.events_until(
            sub_id, lambda ev, t=trade_id: bool(set(statuses(ev, t)) & {"CONFIRMED", "FAILED"}), after_seq=cursor
        )
        if statuses(events, trade_id)[-1] == "CONFIRMED":
            return trade_id, events, cursor
    raise AssertionError("no lifecycle reached CONFIRMED")


async def test_user_tools_listed_and_read_only(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY)) as h:
        tools = {t.name: t for t in (await h.client.list_tools()).tools}
        assert set(tools) >= USER_TOOLS
        for name in ("get_user_trade", "get_open_orders", "get_recent_trades", "diagnose_connection"):
            assert tools[name].annotations is not None and tools[name].annotations.read_only_hint is True, name
        for name in USER_TOOLS:
            assert tools[name].output_schema is not None, name
            assert not any(w in name for w in ("place", "cancel", "post_order")), name


async def test_derive_then_subscribe_trades_full_lifecycle(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        sub = await h.call("subscribe_user_trades", {})
        assert sub["kind"] == "user_trades" and sub["status"] == "active" and sub["market_ids"] == []
        assert sub["address"] == ADDRESS and sub["credentials"] == "derived"
        # Credentials were derived over L1 and saved 0600 in the data directory.
        (saved,) = (tmp_path / "credentials").iterdir()
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600

        trade_id, events, _ = await confirmed_trade(h, sub["subscription_id"])
        seen = statuses(events, trade_id)
        assert seen[0] == "MATCHED" and seen[-1] == "CONFIRMED" and "MINED" in seen
        for event in events:
            if event["type"] == "user_trade":
                assert event["data"]["market"].startswith("0x") and event["ts_event"] > 10**12

        trade = await h.call("get_user_trade", {"trade_id": trade_id})
        assert trade["status"] == "CONFIRMED" and trade["final"] is True
        assert [step["status"] for step in trade["history"]] == seen
        assert trade["transaction_hash"].startswith("0x")

        text = await h.call_error("get_user_trade", {"trade_id": "no-such-trade"})
        assert "get_recent_trades" in text

        recent = await h.call("get_recent_trades", {"limit": 10})
        assert trade_id in {t["trade_id"] for t in recent["trades"]}
        assert all(not t["status"].startswith("TRADE_STATUS_") for t in recent["trades"])


async def test_orders_subscription_by_slug_and_open_orders(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        market = h.market(1)
        sub = await h.call("subscribe_user_orders", {"market_ids": [market.slug]})
        assert sub["market_ids"] == [market.condition_id]
        await start_trade(h, market.condition_id)
        events, _ = await h.events_until(
            sub["subscription_id"],
            lambda ev: {"PLACEMENT", "UPDATE"} <= {e["data"]["action"] for e in ev if e["type"] == "user_order"},
        )
        orders = [e["data"] for e in events if e["type"] == "user_order"]
        assert all(o["market"] == market.condition_id for o in orders)
        update = next(o for o in orders if o["action"] == "UPDATE")
        assert 0 < float(update["size_matched"]) <= float(update["original_size"])

        # The filtered subscription does not see trades of other markets.
        other = h.market(0)
        await start_trade(h, other.condition_id)
        opened = await h.call("get_open_orders", {"market_id": market.condition_id})
        assert all(o["market"] == market.condition_id for o in opened["orders"])
        everything = await h.call("get_open_orders", {})
        assert everything["count"] >= opened["count"]


async def test_user_channel_reconnects_and_reauthenticates(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        sub = await h.call("subscribe_user_trades", {})
        sub_id = sub["subscription_id"]
        _, _, cursor = await confirmed_trade(h, sub_id)
        opened_before = h.sim.observed.opened["/ws/user"]

        # Revoke every key and cut the socket: the reconnect is rejected, the provider re-derives once,
        # and events flow again on the new credentials.
        async with httpx2.AsyncClient(timeout=10.0) as http:
            await http.post(h.sim.rest_url + "/_sim/auth/revoke")
        h.sim.faults.drop_all()
        await h.sim.wait_until(
            lambda: h.sim.observed.opened["/ws/user"] >= opened_before + 2 and bool(h.sim.ws.user_connections())
        )
        trade_id, events, _ = await confirmed_trade(h, sub_id, after_seq=cursor)
        assert statuses(events, trade_id)[-1] == "CONFIRMED"
        assert h.sim.observed.opened["/ws/user"] >= opened_before + 2  # rejected attempt + accepted one
        status = await h.call("get_realtime_status", {})
        assert status["connections"]["user"]["reconnects"] >= 1


async def test_no_credentials_gives_a_clear_error(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION]) as h:
        for tool, args in (
            ("subscribe_user_orders", {}),
            ("subscribe_user_trades", {"market_ids": []}),
            ("get_open_orders", {}),
            ("get_recent_trades", {}),
        ):
            text = await h.call_error(tool, args)
            assert "POLYGON_PRIVATE_KEY" in text and "POLYMARKET_API_KEY" in text, tool
        report = await h.call("diagnose_connection", {})
        assert report["ok"] is True, report
        checks = {c["name"]: c for c in report["checks"]}
        assert checks["API credentials"]["status"] == "skip"


async def test_wrong_address_reported_by_tools_and_diagnosis(tmp_path: Path) -> None:
    other = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    async with running(
        tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), address=other
    ) as h:
        text = await h.call_error("subscribe_user_trades", {})
        assert "POLYGON_ADDRESS" in text and other in text and ADDRESS in text
        report = await h.call("diagnose_connection", {})
        assert report["ok"] is False
        check = next(c for c in report["checks"] if c["name"] == "private key / address")
        assert check["status"] == "fail" and check["fix"]
        # Market data keeps working.
        assert (await h.call("get_market", {"market": h.market(0).slug}))["condition_id"]


async def test_skewed_simulator_clock_end_to_end(tmp_path: Path) -> None:
    async with running(
        tmp_path,
        sim_config=sim_config(time_offset_s=900.0, auth_window_s=30.0),
        extensions=[EXTENSION],
        private_key=Secret(KEY),
        **FAST,
    ) as h:
        sub = await h.call("subscribe_user_trades", {})
        trade_id, _, _ = await confirmed_trade(h, sub["subscription_id"])
        assert (await h.call("get_user_trade", {"trade_id": trade_id}))["final"] is True
        # L2 REST must authenticate at server time despite the skew; the result must be self-consistent.
        opened = await h.call("get_open_orders", {})
        assert opened["count"] == len(opened["orders"])
        report = await h.call("diagnose_connection", {})
        checks = {c["name"]: c for c in report["checks"]}
        assert checks["clock skew"]["status"] == "warn" and abs(report["clock_skew_s"] - 900) < 2
        assert checks["API credentials"]["status"] == "ok"


async def test_order_cancellation_end_to_end(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        sub = await h.call("subscribe_user_orders", {})
        # The simulator cancels the remainder of every second lifecycle.
        await start_trade(h)
        await start_trade(h)
        events, _ = await h.events_until(
            sub["subscription_id"],
            lambda ev: any(e["type"] == "user_order" and e["data"]["action"] == "CANCELLATION" for e in ev),
        )
        orders = [e["data"] for e in events if e["type"] == "user_order"]
        cancel = next(o for o in orders if o["action"] == "CANCELLATION")
        same = [o for o in orders if o["order_id"] == cancel["order_id"]]
        assert [o["action"] for o in same] == ["PLACEMENT", "UPDATE", "CANCELLATION"]
        update = same[1]
        assert cancel["status"] == "CANCELED"
        assert cancel["size_matched"] == update["size_matched"] and float(cancel["size_matched"]) > 0
        assert float(cancel["size_matched"]) < float(cancel["original_size"])  # the unfilled rest was cancelled
        # The cancelled order is no longer open; the other one still is.
        opened = {o["order_id"] for o in (await h.call("get_open_orders", {}))["orders"]}
        assert cancel["order_id"] not in opened
        assert {o["order_id"] for o in orders} - {cancel["order_id"]} <= opened


async def test_retrying_and_failed_trade_statuses(tmp_path: Path) -> None:
    """The simulator's seeded lifecycles include MATCHED -> RETRYING -> MINED -> CONFIRMED and MATCHED -> FAILED
    (it has no control to force one; with a fixed seed the sequence of outcomes is fixed, so a bounded number
    of lifecycles always contains both)."""
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        sub = await h.call("subscribe_user_trades", {})
        finals: dict[str, list[str]] = {}
        cursor = 0
        for _ in range(6):
            started = [tid for _ in range(8) for tid in await start_trade(h)]
            events, cursor = await h.events_until(
                sub["subscription_id"],
                lambda ev, ids=started: all(set(statuses(ev, t)) & {"CONFIRMED", "FAILED"} for t in ids),
                after_seq=cursor,
            )
            finals.update({t: statuses(events, t) for t in started})
            if any("RETRYING" in s for s in finals.values()) and any("FAILED" in s for s in finals.values()):
                break
        retried = next(t for t, s in finals.items() if "RETRYING" in s)
        failed = next(t for t, s in finals.items() if "FAILED" in s)
        assert finals[retried] == ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]
        assert finals[failed] == ["MATCHED", "FAILED"]

        record = await h.call("get_user_trade", {"trade_id": retried})
        assert record["status"] == "CONFIRMED" and record["final"] is True
        assert [step["status"] for step in record["history"]] == ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]
        assert record["history"][1]["transaction_hash"].startswith("0x")  # retried on chain: hash known
        record = await h.call("get_user_trade", {"trade_id": failed})
        assert record["status"] == "FAILED" and record["final"] is True and record["transaction_hash"] == ""
        assert [step["status"] for step in record["history"]] == ["MATCHED", "FAILED"]

        recent = {t["trade_id"]: t for t in (await h.call("get_recent_trades", {"limit": 500}))["trades"]}
        assert recent[failed]["status"] == "FAILED" and recent[retried]["status"] == "CONFIRMED"


async def test_subscribe_and_diagnosis_say_where_credentials_are_kept(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        derived = await h.call("subscribe_user_trades", {})
        (saved,) = (tmp_path / "credentials").iterdir()
        assert derived["credentials"] == "derived" and derived["credentials_file"] == str(saved)
        report = await h.call("diagnose_connection", {})
        creds = report["credentials"]
        assert creds["credentials_file"] == str(saved) and creds["source"] == "derived"
        assert creds["address"] == ADDRESS and creds["api_key"].startswith("***")
        assert report["user_channel"] is None
        secret = json.loads(saved.read_text())["secret"]
        assert secret not in json.dumps(derived) and secret not in json.dumps(report)
