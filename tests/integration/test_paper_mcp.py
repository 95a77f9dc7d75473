"""End to end through MCP (SDK Client, in process) against the simulator: a model-style script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import anyio
import pytest

from polymarket_realtime.server.ext_paper import PaperExtension

from ._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio


async def _wait_live(h: Harness, sid: str, within_s: float = 15.0) -> dict[str, Any]:
    """Wait until every book of the session is live, re-checked after each book event (get_events long-poll)."""
    tokens = (await h.call("get_paper_session", {"session_id": sid}))["token_ids"]
    sub = (await h.call("subscribe_orderbook_updates", {"token_ids": tokens, "depth": 1}))["subscription_id"]
    cursor = 0
    try:
        with anyio.fail_after(within_s):
            while True:  # subscribed before the check: a book that goes live after it is an event we wake on
                detail = await h.call("get_paper_session", {"session_id": sid})
                if all(t["book"] == "live" and t["best_ask"] for t in detail["tokens"]):
                    return detail
                page = await h.call("get_events", {"subscription_id": sub, "after_seq": cursor, "wait_s": 5})
                cursor = page["next_seq"]
    finally:
        await h.call("unsubscribe_realtime", {"subscription_id": sub})


async def _until_activity(
    h: Harness, check: Callable[[], Awaitable[Any]], within_s: float = 30.0, wait_s: float = 5.0
) -> Any:
    """Re-run ``check`` after every new activity entry (get_activity long-poll) until it returns a truthy value."""
    cursor = (await h.call("get_activity", {"after_seq": 0, "limit": 1}))["latest_seq"]  # before the first check
    with anyio.fail_after(within_s):
        while not (result := await check()):
            page = await h.call("get_activity", {"after_seq": cursor, "limit": 500, "wait_s": wait_s})
            cursor = page["next_after_seq"]
        return result


async def _fingerprint(h: Harness, sid: str) -> tuple[Any, ...]:
    d = await h.call("get_paper_session", {"session_id": sid})
    act = await h.call("get_activity", {"after_seq": 0, "limit": 1})
    return (d["state"], d["cash"], [(p["token_id"], p["size"]) for p in d["positions"]], d["orders"], act["latest_seq"])


async def test_model_script_trade_pause_resume_risk_halt(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        tools = {t.name: t for t in (await h.client.list_tools()).tools}
        assert {"create_paper_session", "place_paper_order", "start_agent", "get_system_status"} <= set(tools)
        assert tools["place_paper_order"].annotations.destructive_hint is True
        assert tools["get_paper_session"].annotations.read_only_hint is True
        yes, no = h.market(0).token_ids
        created = await h.call(
            "create_paper_session",
            {
                "name": "model",
                "token_ids": [yes, no],
                "starting_cash": 500,
                "fee_bps": 500,
                "risk": {"max_order_usd": 30, "max_daily_loss_usd": 3},
            },
        )
        sid = created["session_id"]
        assert created["state"] == "running" and created["cash"] == "500"
        live = await _wait_live(h, sid)
        tick = D(live["tokens"][0]["tick_size"])

        bought = await h.call("place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 10})
        assert bought["order"]["status"] in ("filled", "partially_filled") and D(bought["order"]["filled"]) > 0
        assert D(bought["cash"]) < 500 and bought["fills"][0]["liquidity"] == "taker"

        await h.call("pause_paper_session", {"session_id": sid})
        err = await h.call_error("place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 5})
        assert "paused" in err and "resume_paper_session" in err
        again = await h.call_error("pause_paper_session", {"session_id": sid})
        assert "while it is paused" in again
        sold = await h.call("place_paper_order", {"session_id": sid, "token_id": yes, "side": "SELL", "size": 5})
        assert sold["order"]["side"] == "SELL" and sold["session_state"] == "paused"
        await h.call("resume_paper_session", {"session_id": sid})

        # A limit far below the market rests; cancel it.
        rest = await h.call(
            "place_paper_order",
            {
                "session_id": sid,
                "token_id": yes,
                "side": "BUY",
                "size": 5,
                "order_type": "limit",
                "limit_price": str(tick),
            },
        )
        assert rest["order"]["status"] == "open"
        cancelled = await h.call("cancel_paper_order", {"session_id": sid, "order_id": rest["order"]["order_id"]})
        assert cancelled["status"] == "cancelled"

        ask = D((await h.call("get_paper_session", {"session_id": sid}))["tokens"][0]["best_ask"])
        big = {"size": int(60 / ask) + 1, "order_type": "limit", "limit_price": str(ask)}  # >= $60 > max $30
        over = await h.call_error("place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", **big})
        assert "max_order_usd" in over

        # Fees (5%) plus paying the spread lose money on every round trip: the daily loss limit halts it.
        with anyio.fail_after(30):
            for _ in range(20):
                state = (await h.call("get_paper_session", {"session_id": sid}))["state"]
                if state == "halted":
                    break
                live_ask = D((await h.call("get_paper_session", {"session_id": sid}))["tokens"][0]["best_ask"])
                size = max(5, int(25 / live_ask))  # ~$25: under max_order_usd, fees ~$1.25 a leg
                r = await h.client.call_tool(
                    "place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": size}
                )
                if not r.is_error:
                    await h.client.call_tool(
                        "place_paper_order",
                        {
                            "session_id": sid,
                            "token_id": yes,
                            "side": "SELL",
                            "size": r.structured_content["order"]["filled"],
                        },  # type: ignore[index]
                    )
        detail = await h.call("get_paper_session", {"session_id": sid})
        assert detail["state"] == "halted" and "max_daily_loss_usd" in detail["state_reason"]
        refused = await h.call_error(
            "place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 5}
        )
        assert "halted" in refused
        activity = await h.call("get_activity", {"after_seq": 0, "limit": 500})
        kinds = [e["kind"] for e in activity["entries"]]
        assert {"session_created", "order_placed", "session_paused", "session_resumed", "risk_halt"} <= set(kinds)
        resource = await h.client.read_resource("polymarket://activity")
        assert "risk_halt" in str(resource.contents[0])

        status = await h.call("get_system_status")
        assert status["sessions"]["halted"] == 1 and status["storage"]["ok"] is True
        assert status["feed"] and status["uptime_s"] > 0 and status["subscriptions"]["books"] >= 2


async def test_agents_through_mcp_strategy_alert_logs(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes, _no = h.market(1).token_ids
        sid = (await h.call("create_paper_session", {"name": "auto", "token_ids": [yes]}))["session_id"]
        await _wait_live(h, sid)
        params = {"window": 2, "threshold": "0.001", "order_size": "5", "max_position": "1000", "cooldown": 0}
        strat = await h.call(
            "start_agent", {"kind": "strategy", "config": {"token_id": yes, "params": params}, "session_id": sid}
        )
        alert = await h.call(
            "start_agent", {"kind": "price_alert", "config": {"token_id": yes, "condition": "above", "price": 0.01}}
        )
        scanner = await h.call("start_agent", {"kind": "market_scanner", "config": {"preset": "liquidity"}})

        async def traded_and_fired() -> tuple[dict[str, Any], dict[str, Any]] | None:
            # An order and the alert's firing and stop each add activity entries; the strategy bumps its
            # counter right after its order's entry, so a later entry (or the long-poll bound) re-checks it.
            s = await h.call("get_agent", {"agent_id": strat["agent_id"]})
            a = await h.call("get_agent", {"agent_id": alert["agent_id"]})
            return (s, a) if s["stats"]["orders"] >= 1 and a["state"] == "stopped" else None

        s, a = await _until_activity(h, traded_and_fired)
        assert s["stats"]["orders"] >= 1
        assert a["stats"]["fired"] == 1 and a["state_reason"] == "one-shot alert fired"
        detail = await h.call("get_paper_session", {"session_id": sid})
        assert detail["recent_fills"], "the strategy traded the session on its own"
        logs = await h.call("get_agent_logs", {"agent_id": strat["agent_id"], "lines": 50, "contains": "filled"})
        assert logs["lines"]
        sc = await h.call("get_agent", {"agent_id": scanner["agent_id"]})
        assert sc["state"] == "running" and sc["stats"]["ranking"]
        listed = await h.call("list_agents")
        assert listed["counts"]["running"] == 2 and listed["counts"]["stopped"] == 1
        presets = await h.call("save_scanner_preset", {"name": "mine", "weights": {"depth": 3}})
        assert "mine" in presets["presets"]
        await h.call("delete_scanner_preset", {"name": "mine"})

        off = await h.call("stop_system")
        assert sorted(off["agents"]) == sorted([strat["agent_id"], scanner["agent_id"]]) and off["sessions"] == [sid]
        refused = await h.call_error("start_agent", {"kind": "market_scanner", "config": {}})
        assert "start_system" in refused
        on = await h.call("start_system")
        assert sorted(on["agents"]) == sorted(off["agents"]) and on["sessions"] == [sid]
        assert (await h.call("get_agent", {"agent_id": strat["agent_id"]}))["state"] == "running"
        stopped = await h.call("stop_paper_session", {"session_id": sid})
        assert stopped["state"] == "stopped" and stopped["orders"] == []
        strat_after = await h.call("get_agent", {"agent_id": strat["agent_id"]})
        assert strat_after["state"] == "stopped" and sid in strat_after["state_reason"]


async def test_bad_inputs_are_clear_errors_and_change_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes, no = h.market(0).token_ids
        sid = (await h.call("create_paper_session", {"name": "b", "token_ids": [yes]}))["session_id"]
        await _wait_live(h, sid)
        await h.call("place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 10})
        aid = (
            await h.call(
                "start_agent", {"kind": "price_alert", "config": {"token_id": yes, "condition": "below", "price": 0.01}}
            )
        )["agent_id"]
        before = await _fingerprint(h, sid)
        order = {"session_id": sid, "token_id": yes, "side": "BUY"}
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("get_paper_session", {"session_id": "ps-unknown"}, "Unknown paper session"),
            ("pause_paper_session", {"session_id": "ps-unknown"}, "Unknown paper session"),
            ("place_paper_order", {**order, "session_id": "ps-unknown", "size": 5}, "Unknown paper session"),
            ("place_paper_order", {**order, "size": 0}, "positive"),
            ("place_paper_order", {**order, "size": -3}, "positive"),
            ("place_paper_order", {**order, "size": 5, "order_type": "limit", "limit_price": 1.2}, "outside (0, 1)"),
            ("place_paper_order", {**order, "size": 5, "order_type": "limit", "limit_price": 0}, "outside (0, 1)"),
            ("place_paper_order", {**order, "size": 5, "order_type": "limit", "limit_price": "0.505"}, "tick size"),
            ("place_paper_order", {**order, "token_id": no, "size": 5}, "not part of session"),
            ("place_paper_order", {**order, "token_id": "not-a-token", "size": 5}, "not a token id"),
            ("create_paper_session", {"name": "x", "token_ids": ["99999999999"]}, "Unknown token"),
            ("get_agent", {"agent_id": "ag-unknown"}, "Unknown agent"),
            ("stop_agent", {"agent_id": "ag-unknown"}, "Unknown agent"),
            ("get_agent_logs", {"agent_id": aid, "lines": 100000}, "between 1 and 1000"),
            ("get_agent_logs", {"agent_id": "ag-unknown"}, "Unknown agent"),
            ("cancel_paper_order", {"session_id": sid, "order_id": "po-unknown"}, "No open order"),
        ]
        for tool, args, expected in cases:
            text = await h.call_error(tool, args)
            assert expected in text, (tool, args, text)
        assert await _fingerprint(h, sid) == before
        assert len((await h.call("list_paper_sessions"))["sessions"]) == 1
        assert len((await h.call("list_agents"))["agents"]) == 1


async def test_alert_notifies_activity_resource_listeners(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        yes, _ = h.market(2).token_ids
        seen: list[str] = []
        with anyio.fail_after(20):
            async with h.client.listen(resource_subscriptions=["polymarket://activity"]) as stream:
                started = await h.call(
                    "start_agent",
                    {"kind": "price_alert", "config": {"token_id": yes, "condition": "above", "price": 0.01}},
                )
                async for event in stream:
                    seen.append(str(getattr(event, "uri", "")))
                    page = await h.call("get_activity", {"after_seq": 0, "limit": 500})
                    if any(e["kind"] == "alert" and e["subject"] == started["agent_id"] for e in page["entries"]):
                        break
        assert "polymarket://activity" in seen
        logs = await h.call("get_agent_logs", {"agent_id": started["agent_id"], "contains": "price alert"})
        assert logs["lines"] and "is above 0.01" in logs["lines"][-1]["message"]


async def test_positions_settle_when_the_market_resolves(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        market = h.market(3)
        yes, no = market.token_ids
        sid = (await h.call("create_paper_session", {"name": "r", "market_ids": [market.condition_id]}))["session_id"]
        detail = await _wait_live(h, sid)
        assert sorted(detail["token_ids"]) == sorted([yes, no])
        bought = await h.call("place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 10})
        filled = D(bought["order"]["filled"])
        cash_before = D(bought["cash"])
        h.sim.resolve_market(market.condition_id, winner=0)  # YES wins

        async def flat() -> dict[str, Any] | None:  # the settlement commits with its position_settled entry
            d = await h.call("get_paper_session", {"session_id": sid})
            return None if any(D(p["size"]) for p in d["positions"]) else d

        detail = await _until_activity(h, flat, within_s=20)
        assert D(detail["cash"]) == cash_before + filled  # paid 1 per winning share
        activity = await h.call("get_activity", {"after_seq": 0, "limit": 500})
        settled = [e for e in activity["entries"] if e["kind"] == "position_settled"]
        assert settled and settled[0]["data"]["payout"] == "1"


async def test_get_activity_long_polls_until_an_entry_or_the_timeout(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=[PaperExtension()]) as h:
        tool = {t.name: t for t in (await h.client.list_tools()).tools}["get_activity"]
        wait_s = tool.input_schema["properties"]["wait_s"]
        assert "long-poll" in (str(wait_s.get("description", "")) + (tool.description or "")).lower()
        latest = (await h.call("get_activity", {"after_seq": 0, "limit": 1}))["latest_seq"]
        # Nothing new: a tiny wait returns an empty page with the cursor unchanged.
        empty = await h.call("get_activity", {"after_seq": latest, "wait_s": 0.05})
        assert empty["entries"] == [] and empty["next_after_seq"] == latest and empty["latest_seq"] == latest
        err = await h.call_error("get_activity", {"after_seq": latest, "wait_s": -1})
        assert "wait_s" in err
        # An entry committed during a long wait ends it early, with that entry.
        pages: list[dict[str, Any]] = []
        with anyio.fail_after(15):  # well under the 25 s the poll may wait: it must return on the entry
            async with anyio.create_task_group() as tg:

                async def poll() -> None:
                    pages.append(await h.call("get_activity", {"after_seq": latest, "wait_s": 25}))

                tg.start_soon(poll)
                await anyio.wait_all_tasks_blocked()
                sid = (await h.call("create_paper_session", {"name": "wake", "token_ids": [h.market(0).token_ids[0]]}))[
                    "session_id"
                ]
        (page,) = pages
        assert page["entries"] and page["entries"][0]["kind"] == "session_created"
        assert page["entries"][0]["subject"] == sid and page["next_after_seq"] > latest
        with anyio.fail_after(15):  # entries already after the cursor: no waiting at all
            again = await h.call("get_activity", {"after_seq": latest, "wait_s": 25})
        assert again["entries"][0]["seq"] == page["entries"][0]["seq"]
