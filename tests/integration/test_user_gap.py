"""User-channel gap: changes made while the user socket was down reach the subscription exactly once,
recovered over REST (``source="rest_reconcile"``) after the reconnect, through MCP against the simulator."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest

from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.ext_user import EXTENSION

from ._mcp_harness import Harness, running
from .test_user_channel import FAST, KEY, sim_config, start_trade, statuses

pytestmark = pytest.mark.anyio

FINAL = {"CONFIRMED", "FAILED"}


def trade_final(trade_id: str) -> Any:
    return lambda ev: bool(set(statuses(ev, trade_id)) & FINAL)


def orders_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == "user_order"]


async def control(h: Harness, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx2.AsyncClient(timeout=10.0) as http:
        response = await http.post(h.sim.rest_url + path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_changes_during_a_user_socket_gap_arrive_once_after_reconnect(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        h.sim.user.page_size = 1  # every REST read below has to follow next_cursor
        trades_sub = (await h.call("subscribe_user_trades", {}))["subscription_id"]
        orders_sub = (await h.call("subscribe_user_orders", {}))["subscription_id"]

        # Before the gap: lifecycle A (its order stays open, partly filled) is seen live.
        (trade_a,) = await start_trade(h)
        trade_events, trade_cursor = await h.events_until(trades_sub, trade_final(trade_a))
        order_events, order_cursor = await h.events_until(
            orders_sub, lambda ev: any(o["action"] == "UPDATE" for o in orders_of(ev))
        )
        order_a = orders_of(order_events)[0]["order_id"]
        reconnects = h.sim.observed.opened["/ws/user"]

        # The gap: no user socket while the venue cancels order A and runs lifecycle B (placed, filled,
        # settled and cancelled), none of which the socket will replay.
        h.sim.faults.refuse_connections(60)
        h.sim.faults.drop_all()
        await h.sim.wait_until(lambda: not h.sim.ws.user_connections())
        assert (await control(h, "/_sim/user/cancel", {"order_id": order_a}))["ok"]
        (trade_b,) = (await control(h, "/_sim/user/trade", {}))["trade_ids"]
        await h.sim.wait_until(lambda: h.sim.user.pending == 0)
        final_b = h.sim.user.trades[next(iter(h.sim.user.trades))][trade_b]["status"].removeprefix("TRADE_STATUS_")
        h.sim.faults.refuse_connections(0)

        # After the reconnect: each change once, marked as recovered.
        gap_trades, trade_cursor = await h.events_until(
            trades_sub, lambda ev: statuses(ev, trade_b) == [final_b], after_seq=trade_cursor
        )
        gap_orders, order_cursor = await h.events_until(
            orders_sub,
            lambda ev: sum(o["action"] == "CANCELLATION" for o in orders_of(ev)) >= 2,
            after_seq=order_cursor,
        )
        assert h.sim.observed.opened["/ws/user"] > reconnects
        recovered_trade = next(e["data"] for e in gap_trades if e["type"] == "user_trade")
        assert recovered_trade["source"] == "rest_reconcile" and recovered_trade["status"] == final_b
        cancels = {o["order_id"]: o for o in orders_of(gap_orders) if o["action"] == "CANCELLATION"}
        assert order_a in cancels and cancels[order_a]["status"] == "CANCELED"
        order_b = next(oid for oid in cancels if oid != order_a)  # placed and cancelled inside the gap
        assert {o["source"] for o in cancels.values()} == {"rest_reconcile"}

        # Live events resume; nothing seen before (or recovered) is delivered again.
        (trade_c,) = await start_trade(h)
        more_trades, _ = await h.events_until(trades_sub, trade_final(trade_c), after_seq=trade_cursor)
        more_orders, _ = await h.events_until(
            orders_sub, lambda ev: any(o["action"] == "UPDATE" for o in orders_of(ev)), after_seq=order_cursor
        )
        all_trades = [e for e in trade_events + gap_trades + more_trades if e["type"] == "user_trade"]
        all_orders = orders_of(order_events + gap_orders + more_orders)
        assert statuses(all_trades, trade_a) == statuses(trade_events, trade_a)  # A not re-sent
        assert statuses(all_trades, trade_b) == [final_b]
        keys = Counter((t["data"]["trade_id"], t["data"]["status"]) for t in all_trades)
        assert max(keys.values()) == 1, keys
        order_keys = Counter((o["order_id"], o["action"], o["status"], o["size_matched"]) for o in all_orders)
        assert max(order_keys.values()) == 1, order_keys
        assert [o["action"] for o in all_orders if o["order_id"] == order_b] == ["CANCELLATION"]
        assert all(t["data"]["source"] == "ws" for t in more_trades if t["type"] == "user_trade")

        gap = (await h.call("get_realtime_status"))["statistics"]["user_gap"]
        assert gap["reconciliations"] >= 1 and gap["recovered_events"] >= 3 and gap["errors"] == 0


async def test_a_failed_gap_reread_is_said_on_the_user_channel_and_retried(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=sim_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        trades_sub = (await h.call("subscribe_user_trades", {}))["subscription_id"]
        orders_sub = (await h.call("subscribe_user_orders", {}))["subscription_id"]
        (trade_a,) = await start_trade(h)
        await h.events_until(trades_sub, trade_final(trade_a))
        order_events, cursor = await h.events_until(
            orders_sub, lambda ev: any(o["action"] == "UPDATE" for o in orders_of(ev))
        )
        order_a = orders_of(order_events)[0]["order_id"]

        h.sim.faults.refuse_connections(60)
        h.sim.faults.drop_all()
        await h.sim.wait_until(lambda: not h.sim.ws.user_connections())
        assert (await control(h, "/_sim/user/cancel", {"order_id": order_a}))["ok"]
        await h.sim.wait_until(lambda: h.sim.user.pending == 0)  # cancelled inside the gap, not after it
        # The first REST re-read after the reconnect fails (a Retry-After too long to wait in place).
        h.sim.faults.rest.add(503, count=1, path="/data/orders", retry_after="600")
        h.sim.faults.refuse_connections(0)

        events, _ = await h.events_until(
            orders_sub,
            lambda ev: any(o["order_id"] == order_a and o["source"] == "rest_reconcile" for o in orders_of(ev)),
            after_seq=cursor,
        )
        lossy = [
            e["data"]
            for e in events
            if e["type"] == "feed_status" and e["data"]["channel"] == "user" and e["data"]["state"] == "lossy"
        ]
        assert len(lossy) == 1 and lossy[0]["detail"].startswith("gap not reconciled: ")
        assert "retrying in" in lossy[0]["detail"] and "(attempt 1/5)" in lossy[0]["detail"]
        cancel = next(o for o in orders_of(events) if o["order_id"] == order_a and o["source"] == "rest_reconcile")
        assert cancel["action"] == "CANCELLATION" and cancel["status"] == "CANCELED"  # recovered by the retry
        assert h.sim.faults.rest.served == {503: 1}
        gap = (await h.call("get_realtime_status"))["statistics"]["user_gap"]
        assert gap["errors"] == 1 and gap["reconciliations"] == 2
