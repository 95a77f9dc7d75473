"""Crash recovery with a real server process: SIGKILL mid-session, restart, verify nothing lost or doubled.

The server runs as ``python -m polymarket_realtime serve`` over stdio (SDK stdio client) against the
simulator running in this test process, with a tmp ``POLYMARKET_MCP_DATA_DIR``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from polymarket_realtime.simulator import Simulator, SimulatorConfig

# Not marked slow: it needs no network and takes seconds, so `make test` (CI) runs it.
pytestmark = [pytest.mark.anyio]


def _params(sim: Simulator, data_dir: Path, cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "polymarket_realtime", "serve"],
        env={
            **sim.env(),
            "POLYMARKET_MCP_DATA_DIR": str(data_dir),
            "POLYMARKET_MCP_LOG_LEVEL": "WARNING",
            # Agents are not in the default toolsets; this test restores them too.
            "POLYMARKET_MCP_TOOLSETS": "all",
            "PATH": os.environ.get("PATH", ""),
        },
        cwd=str(cwd),
    )


async def _call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def _wait_live(client: Client, sid: str) -> dict[str, Any]:
    """Wait until every book of the session is live, re-checked after each book event (get_events long-poll)."""
    tokens = (await _call(client, "get_paper_session", {"session_id": sid}))["token_ids"]
    sub = (await _call(client, "subscribe_orderbook_updates", {"token_ids": tokens, "depth": 1}))["subscription_id"]
    cursor = 0
    try:
        with anyio.fail_after(20):
            while True:  # subscribed before the check: a book that goes live after it is an event we wake on
                detail = await _call(client, "get_paper_session", {"session_id": sid})
                if all(t["book"] == "live" and t["best_ask"] for t in detail["tokens"]):
                    return detail
                page = await _call(client, "get_events", {"subscription_id": sub, "after_seq": cursor, "wait_s": 5})
                cursor = page["next_seq"]
    finally:
        await _call(client, "unsubscribe_realtime", {"subscription_id": sub})


async def _activity_cursor(client: Client) -> int:
    return int((await _call(client, "get_activity", {"after_seq": 0, "limit": 1}))["latest_seq"])


async def _next_activity(client: Client, cursor: int) -> int:
    """Long-poll get_activity until something after ``cursor`` is committed (or 5 s pass); the new cursor."""
    page = await _call(client, "get_activity", {"after_seq": cursor, "limit": 500, "wait_s": 5})
    return int(page["next_after_seq"])


def _ledger_from_fills(db: Path, sid: str) -> tuple[D, dict[str, D]]:
    """Cash and positions recomputed from the fills table alone."""
    with sqlite3.connect(db) as conn:
        start = D(conn.execute("SELECT starting_cash FROM sessions WHERE id = ?", (sid,)).fetchone()[0])
        cash, pos = start, {}
        for side, token, price, size, fee in conn.execute(
            "SELECT side, token_id, price, size, fee FROM fills WHERE session_id = ?", (sid,)
        ):
            sign = 1 if side == "BUY" else -1
            cash -= sign * D(price) * D(size) + D(fee)
            pos[token] = pos.get(token, D(0)) + sign * D(size)
    return cash, {t: s for t, s in pos.items() if s}


async def test_sigkill_mid_session_then_restart_restores_everything(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=11, markets=3, rate_per_s=60.0, resolve_after_s=None)
    data_dir = tmp_path / "data"
    db_path = data_dir / "state.sqlite3"
    async with Simulator(config) as sim:
        market = sim.model.active_markets()[0]
        yes, no = market.token_ids
        reported_fills: set[str] = set()
        killed = False
        try:
            async with Client(_params(sim, data_dir, tmp_path), mode="legacy", read_timeout_seconds=30) as client:
                with anyio.fail_after(90):
                    sid = (await _call(client, "create_paper_session", {"name": "live", "token_ids": [yes, no]}))[
                        "session_id"
                    ]
                    paused_sid = (await _call(client, "create_paper_session", {"name": "idle", "token_ids": [no]}))[
                        "session_id"
                    ]
                    detail = await _wait_live(client, sid)
                    tick = D(detail["tokens"][0]["tick_size"])
                    bought = await _call(
                        client, "place_paper_order", {"session_id": sid, "token_id": yes, "side": "BUY", "size": 20}
                    )
                    reported_fills |= {f["fill_id"] for f in bought["fills"]}
                    low = await _call(
                        client,
                        "place_paper_order",
                        {
                            "session_id": sid,
                            "token_id": no,
                            "side": "BUY",
                            "size": 5,
                            "order_type": "limit",
                            "limit_price": str(tick),
                        },
                    )
                    high = await _call(
                        client,
                        "place_paper_order",
                        {
                            "session_id": sid,
                            "token_id": yes,
                            "side": "SELL",
                            "size": 5,
                            "order_type": "limit",
                            "limit_price": str(D(1) - tick),
                        },
                    )
                    resting = {low["order"]["order_id"], high["order"]["order_id"]}
                    await _call(client, "pause_paper_session", {"session_id": paused_sid})
                    params = {
                        "window": 2,
                        "threshold": "0.001",
                        "order_size": "5",
                        "max_position": "200",
                        "cooldown": 0,
                    }
                    strat = await _call(
                        client,
                        "start_agent",
                        {"kind": "strategy", "config": {"token_id": yes, "params": params}, "session_id": sid},
                    )
                    alert = await _call(
                        client,
                        "start_agent",
                        {
                            "kind": "price_alert",
                            "config": {"token_id": no, "condition": "below", "price": 0.001, "repeat": True},
                        },
                    )
                    # Let the strategy trade on its own, then kill the server while it is still trading.
                    # Each order commits an activity entry; the counter is bumped right after it, so a later
                    # entry (or the long-poll bound) re-checks it.
                    agent_id = strat["agent_id"]
                    cursor = await _activity_cursor(client)
                    while (await _call(client, "get_agent", {"agent_id": agent_id}))["stats"]["orders"] < 2:
                        cursor = await _next_activity(client, cursor)
                    pid = (await _call(client, "get_system_status"))["pid"]
                    assert pid != os.getpid()
                    killed = True
                    os.kill(pid, signal.SIGKILL)  # the client's exit then reaps the dead process
        except Exception:
            if not killed:
                raise  # a real failure before the kill; after it, a broken pipe is expected

        # What was committed before the crash: every fill a tool reported, each exactly once.
        with sqlite3.connect(db_path) as conn:
            fill_ids = [r[0] for r in conn.execute("SELECT id FROM fills WHERE session_id = ?", (sid,))]
            cash_at_crash = D(conn.execute("SELECT cash FROM sessions WHERE id = ?", (sid,)).fetchone()[0])
            rows = conn.execute("SELECT token_id, size FROM positions WHERE session_id = ?", (sid,)).fetchall()
            positions_at_crash = {t: D(z) for t, z in rows if D(z)}
        assert reported_fills <= set(fill_ids) and len(fill_ids) == len(set(fill_ids))
        expected_cash, expected_positions = _ledger_from_fills(db_path, sid)
        # The session row, positions and fills were committed together: they agree exactly.
        assert cash_at_crash == expected_cash and positions_at_crash == expected_positions

        async with Client(_params(sim, data_dir, tmp_path), mode="legacy", read_timeout_seconds=30) as client:
            with anyio.fail_after(60):
                # Every session and agent is back in its previous state, resting orders included.
                after = await _call(client, "get_paper_session", {"session_id": sid})
                assert after["state"] == "running"
                assert resting <= {o["order_id"] for o in after["orders"]}
                assert (await _call(client, "get_paper_session", {"session_id": paused_sid}))["state"] == "paused"
                agents = {a["agent_id"]: a for a in (await _call(client, "list_agents"))["agents"]}
                assert agents[strat["agent_id"]]["state"] == "running"
                assert agents[alert["agent_id"]]["state"] == "running"
                # The restored strategy trades again; fill ids continue without collisions.
                await _wait_live(client, sid)
                # A fill commits in the same transaction as its activity entry: wake on the restarted server's
                # activity feed, then read the rows it committed.
                cursor = await _activity_cursor(client)
                while True:
                    with sqlite3.connect(db_path) as conn:
                        now_ids = [r[0] for r in conn.execute("SELECT id FROM fills WHERE session_id = ?", (sid,))]
                    if len(now_ids) > len(fill_ids):
                        break
                    cursor = await _next_activity(client, cursor)
                await _call(client, "stop_agent", {"agent_id": strat["agent_id"]})
                final = await _call(client, "get_paper_session", {"session_id": sid})
                with sqlite3.connect(db_path) as conn:
                    now_ids = [r[0] for r in conn.execute("SELECT id FROM fills WHERE session_id = ?", (sid,))]
                assert set(fill_ids) <= set(now_ids) and len(now_ids) == len(set(now_ids))
                cash, positions = _ledger_from_fills(db_path, sid)
                assert D(final["cash"]) == cash
                assert {p["token_id"]: D(p["size"]) for p in final["positions"] if D(p["size"])} == positions
