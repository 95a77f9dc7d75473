"""``/ws/sessions/{id}``: every command of a session to every client, in order, with a dense seq."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.exceptions import ConnectionClosed

from polymarket_realtime.agents.base import Agent
from polymarket_realtime.model.events import Event
from tests.integration._http_harness import HttpHarness, recv, recv_until, send, serving

pytestmark = pytest.mark.anyio


async def _session(h: HttpHarness) -> tuple[str, str]:
    token = h.market().token_ids[0]
    created = await h.ok("POST", "/api/sessions", {"name": "stream", "starting_cash": "1000", "token_ids": [token]})
    return created["session_id"], token


async def _commands(ws: Any, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with anyio.fail_after(10):
        while len(out) < count:
            message = await recv(ws)
            if message["type"] == "command":
                out.append(message)
    return out


async def test_broadcast_in_order_to_several_clients(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        sid, token = await _session(h)
        async with h.ws(f"/ws/sessions/{sid}") as a, h.ws(f"/ws/sessions/{sid}") as b, h.ws(f"/ws/sessions/{sid}") as c:
            name = f"commands:{sid}"
            with anyio.fail_after(10):
                await h.room.hub.changed.wait_for(lambda: h.room.hub.subscribers(name) == 3, 10)
            placed = await h.ok("POST", f"/api/sessions/{sid}/orders", {"token_id": token, "side": "BUY", "size": "5"})
            resting = await h.ok(
                "POST",
                f"/api/sessions/{sid}/orders",
                {"token_id": token, "side": "BUY", "size": "5", "order_type": "limit", "limit_price": "0.01"},
            )
            await h.ok("POST", f"/api/sessions/{sid}/orders/{resting['order']['order_id']}/cancel")
            await h.ok("POST", f"/api/sessions/{sid}/pause")
            h.room.sources.paper.emit_command(sid, "order_intent", {"agent_id": "ag-test", "side": "BUY"})  # type: ignore[union-attr]
            fills = len(placed["fills"])
            expected = ["order_placed", *["order_filled"] * fills, "order_placed", "order_cancelled", "state_changed",
                        "order_intent"]  # fmt: skip
            streams = [await _commands(ws, len(expected)) for ws in (a, b, c)]
            for stream in streams:
                assert [m["kind"] for m in stream] == expected
                assert [m["seq"] for m in stream] == list(range(1, len(expected) + 1))
                assert all(m["session_id"] == sid and isinstance(m["ts"], int) for m in stream)
            assert streams[0] == streams[1] == streams[2]
            first = streams[0]
            assert first[0]["data"]["order_id"] == placed["order"]["order_id"]
            assert first[-2]["data"] == {"from": "running", "to": "paused", "reason": "paused by user",
                                         "cash": first[-2]["data"]["cash"]}  # fmt: skip

        # Reconnecting with ?since= replays what is still buffered.
        async with h.ws(f"/ws/sessions/{sid}?since={len(expected) - 2}") as late:
            replayed = await _commands(late, 2)
            assert [m["seq"] for m in replayed] == [len(expected) - 1, len(expected)]
            epoch = replayed[0]["epoch"]
            assert epoch == h.room.hub.epoch

        # The same since from another server process (epoch): a gap, then the whole buffer again.
        async with h.ws(f"/ws/sessions/{sid}?since={len(expected) - 2}&epoch=0ld3p0ch") as restarted:
            gap = await recv(restarted)
            assert gap == {"type": "gap", "session_id": sid, "from_seq": 1, "to_seq": 0, "epoch": epoch}
            again = await _commands(restarted, len(expected))
            assert [m["seq"] for m in again] == list(range(1, len(expected) + 1))


async def test_ping_status_malformed_and_dead_clients(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        sid, _token = await _session(h)
        name = f"commands:{sid}"
        hub = h.room.hub
        async with h.ws(f"/ws/sessions/{sid}") as ws:
            await send(ws, {"type": "ping"})
            pong = await recv(ws)
            assert pong["type"] == "pong" and isinstance(pong["ts"], int)
            await send(ws, {"type": "get_status"})
            status = await recv(ws)
            assert status["type"] == "status" and status["data"]["session_id"] == sid
            assert status["data"]["state"] == "running"
            for bad in ("{", "[]", '{"type": 5}', '{"type": "launch"}'):
                await send(ws, bad)
                error = await recv(ws)
                assert error["type"] == "error" and error["detail"], bad
            await send(ws, {"type": "ping"})
            assert (await recv(ws))["type"] == "pong"  # still open after every bad message

            dead = await h.ws(f"/ws/sessions/{sid}").__aenter__()
            with anyio.fail_after(10):
                await hub.changed.wait_for(lambda: hub.subscribers(name) == 2, 10)
            dead.transport.abort()  # vanish without a close frame
            with anyio.fail_after(10):
                await hub.changed.wait_for(lambda: hub.subscribers(name) == 1, 10)
            await h.ok("POST", f"/api/sessions/{sid}/pause")
            assert (await _commands(ws, 1))[0]["kind"] == "state_changed"
        with anyio.fail_after(10):
            await hub.changed.wait_for(lambda: hub.subscribers(name) == 0, 10)


async def test_unknown_session_is_closed_with_a_reason(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        async with h.ws("/ws/sessions/ps-missing") as ws:
            with anyio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4404 and closed.value.rcvd.reason == "unknown session ps-missing"


async def test_risk_halt_is_a_command(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        token = h.market().token_ids[0]
        created = await h.ok(
            "POST",
            "/api/sessions",
            {"name": "halt", "starting_cash": "1000", "token_ids": [token], "risk": {"max_drawdown_pct": 0.01}},
        )
        sid = created["session_id"]
        async with h.ws(f"/ws/sessions/{sid}") as ws:
            await h.post(f"/api/sessions/{sid}/orders", {"token_id": token, "side": "BUY", "size": "200"})
            messages = await recv_until(ws, lambda m: m.get("kind") == "risk_halt", within_s=20)
            halt = messages[-1]
            assert halt["data"]["to"] == "halted" and "risk" in halt["data"]["reason"]


class _BuyOnce(Agent):
    """Buys once on its first event: an agent's order intent, then the order it led to."""

    kind = "buy_once"
    description = "test agent"
    needs_session = True

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return {"token_id": str(raw["token_id"])}

    def token_ids(self) -> list[str]:
        return [self.config["token_id"]]

    async def on_event(self, event: Event) -> None:
        if getattr(event, "asset_id", None) == self.config["token_id"] and not self.memory.get("done"):
            self.memory["done"] = True
            await self.ctx.place_order(self.config["token_id"], "BUY", Decimal(3))
            self.finished = "bought"


async def test_an_agents_order_intent_precedes_its_order(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        sid, token = await _session(h)
        agents = h.room.sources.agents
        assert agents is not None
        agents.register_kind(_BuyOnce)
        async with h.ws(f"/ws/sessions/{sid}") as ws:
            name = f"commands:{sid}"
            with anyio.fail_after(10):
                await h.room.hub.changed.wait_for(lambda: h.room.hub.subscribers(name) == 1, 10)
            agent = await agents.start_agent("buy_once", {"token_id": token}, sid)
            stream = await _commands(ws, 2)
            assert [m["kind"] for m in stream] == ["order_intent", "order_placed"]
            assert stream[0]["data"] == {"agent_id": agent.agent_id, "token_id": token, "side": "BUY", "size": "3"}
            assert stream[1]["data"]["size"] == "3" and stream[1]["seq"] == stream[0]["seq"] + 1


async def test_a_since_that_is_not_a_seq_gets_an_error_not_a_crash(tmp_path: Path) -> None:
    async with serving(tmp_path) as h:
        sid, _token = await _session(h)
        for bad in ("%C2%B2", "-1", "x"):  # "\u00b2" passes str.isdigit() but not int()
            async with h.ws(f"/ws/sessions/{sid}?since={bad}") as ws:
                error = await recv(ws)
                assert error["error"] == "bad_since" and "since" in error["detail"], bad
                await send(ws, {"type": "ping"})
                assert (await recv(ws))["type"] == "pong"
