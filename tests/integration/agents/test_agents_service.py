"""AgentService and SystemService against real SQLite, BookStore and EventRouter (no network)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.agents.base import Agent
from polymarket_realtime.errors import InvalidInputError, NotFoundError, StateError
from polymarket_realtime.model.events import Event
from tests.integration._paper_kit import NO, YES, Kit, change, kit, snapshot

pytestmark = pytest.mark.anyio


class Exploding(Agent):
    kind = "exploding"
    description = "raises on its third event"

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return dict(raw)

    def token_ids(self) -> list[str]:
        return []

    async def on_event(self, event: Event) -> None:
        self.memory["n"] = int(self.memory.get("n", 0)) + 1
        if self.memory["n"] == 3:
            raise RuntimeError("kaboom in on_event")


async def _books(k: Kit) -> None:
    await k.push(snapshot(YES, [("0.48", "100")], [("0.52", "100")]))
    await k.push(snapshot(NO, [("0.40", "300")], [("0.60", "50")]))


async def test_price_alert_fires_once_and_stops(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await _books(k)
        view = await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "above", "price": "0.55"})
        aid = view.agent_id
        await k.push(change(YES, ("SELL", "0.52", "0"), ("SELL", "0.58", "10")))  # mid 0.53
        await k.push(change(YES, ("BUY", "0.56", "10")))  # mid 0.57 >= 0.55
        await k.until(lambda: k.agents.view(aid).state == "stopped")
        got = k.agents.view(aid)
        assert got.state_reason == "one-shot alert fired" and got.stats["fired"] == 1
        alerts = await k.agents.alerts(aid)
        assert len(alerts) == 1 and alerts[0].price == D("0.57")
        logs = await k.agents.logs(aid, contains="price alert")
        assert "is above 0.55" in logs.lines[-1].message
        entries, _ = await k.activity.read(0, 100)
        assert any(e.kind == "alert" and e.subject == aid for e in entries)


async def test_failing_agent_goes_to_error_and_others_keep_running(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        k.agents.register_kind(Exploding)
        await k.push(snapshot(YES, [("0.48", "100")], [("0.52", "100")]))  # a known token (it has a live book)
        bad = (await k.agents.start_agent("exploding", {})).agent_id
        good = (
            await k.agents.start_agent(
                "price_alert", {"token_id": YES, "condition": "cross", "price": "0.5", "repeat": True}
            )
        ).agent_id
        await _books(k)
        await k.push(change(YES, ("BUY", "0.49", "5")))
        await k.push(change(YES, ("BUY", "0.47", "5")))
        await k.until(lambda: k.agents.view(bad).state == "error")
        assert "kaboom" in k.agents.view(bad).state_reason
        errors = await k.agents.logs(bad, level="error")
        assert (
            "RuntimeError: kaboom in on_event" in errors.lines[-1].message and "Traceback" in errors.lines[-1].message
        )
        assert k.agents.view(good).state == "running"
        # The survivor still processes events: mid goes 0.505 -> 0.495 crosses 0.5.
        await k.push(change(YES, ("SELL", "0.52", "0"), ("SELL", "0.51", "10")))
        await k.push(
            change(YES, ("BUY", "0.49", "0"), ("BUY", "0.48", "0"), ("BUY", "0.47", "0"), ("BUY", "0.46", "1"))
        )
        await k.until(lambda: k.agents.view(good).stats["fired"] >= 1)
        entries, _ = await k.activity.read(0, 100)
        assert any(e.kind == "agent_error" and e.subject == bad for e in entries)


async def test_strategy_trades_its_session(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await _books(k)
        sid = (await k.paper.create_session("auto", token_ids=[YES])).session_id
        params = {"window": 3, "threshold": "0.01", "order_size": "10", "max_position": "20", "cooldown": 0}
        aid = (await k.agents.start_agent("strategy", {"token_id": YES, "params": params}, session_id=sid)).agent_id
        # mids 0.50, 0.51, 0.52 (mean 0.51) then a drop to 0.48: below mean by >= 0.01 -> BUY.
        for bid, ask in [("0.50", "0.52"), ("0.51", "0.53"), ("0.47", "0.49")]:
            await k.push(snapshot(YES, [(bid, "100")], [(ask, "100")]))
        await k.until(lambda: k.paper.position_size(sid, YES) == 10)
        for bid, ask in [("0.55", "0.57"), ("0.56", "0.58")]:
            await k.push(snapshot(YES, [(bid, "100")], [(ask, "100")]))
        await k.until(lambda: k.paper.position_size(sid, YES) == 0)
        view = k.agents.view(aid)
        assert view.stats["orders"] == 2 and view.state == "running"
        detail = await k.paper.get_session(sid)
        buy, sell = sorted(detail.recent_fills, key=lambda f: f.side)  # orders fill at the book *then* current
        assert (buy.side, sell.side, buy.price) == ("BUY", "SELL", "0.49")
        assert D(detail.realized_pnl) == D("10") * (D(sell.price) - D(buy.price)) > 0
        logs = await k.agents.logs(aid, contains="BUY 10")
        assert logs.lines and "filled" in logs.lines[0].message


async def test_strategy_needs_a_live_session(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        with pytest.raises(InvalidInputError, match="session_id"):
            await k.agents.start_agent("strategy", {"token_id": YES})
        with pytest.raises(NotFoundError, match="Unknown paper session"):
            await k.agents.start_agent("strategy", {"token_id": YES}, session_id="ps-none")
        with pytest.raises(InvalidInputError, match="Unknown agent kind"):
            await k.agents.start_agent("teleport", {})
        with pytest.raises(InvalidInputError, match=r"config\.condition"):
            await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "sideways", "price": 0.5})
        with pytest.raises(InvalidInputError, match=r"config\.price"):
            await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "above", "price": 1.5})
        assert k.agents.list_agents().agents == []


async def test_scanner_ranks_and_presets(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await _books(k)
        presets = await k.agents.save_preset("tight", {"spread": 5, "depth": 0})
        assert presets.presets["tight"] == {"spread": 5.0, "depth": 0.0, "momentum": 0.0, "volatility": 0.0}
        with pytest.raises(InvalidInputError, match="built-in"):
            await k.agents.save_preset("balanced", {"spread": 1})
        with pytest.raises(InvalidInputError, match="unknown weight"):
            await k.agents.save_preset("x", {"color": 1})
        aid = (await k.agents.start_agent("market_scanner", {"token_ids": [YES, NO], "preset": "tight"})).agent_id
        await k.push(change(YES, ("BUY", "0.49", "10")))
        await k.until(lambda: k.agents.view(aid).stats["observations"] >= 1)
        ranking = k.agents.view(aid).stats["ranking"]
        assert [r["token_id"] for r in ranking] == [YES, NO]  # YES spread 0.03 beats NO 0.20
        assert ranking[0]["score"] == 5.0 and ranking[1]["score"] == 0.0
        await k.agents.delete_preset("tight")
        with pytest.raises(NotFoundError):
            await k.agents.delete_preset("tight")
        with pytest.raises(InvalidInputError, match="cannot be deleted"):
            await k.agents.delete_preset("quiet")


async def test_logs_bad_requests(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.push(snapshot(YES, [("0.48", "100")], [("0.52", "100")]))
        aid = (
            await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "below", "price": 0.2})
        ).agent_id
        with pytest.raises(InvalidInputError, match="between 1 and 1000"):
            await k.agents.logs(aid, lines=5000)
        with pytest.raises(InvalidInputError, match="level"):
            await k.agents.logs(aid, level="loud")
        with pytest.raises(NotFoundError, match="Unknown agent"):
            await k.agents.logs("ag-none")
        with pytest.raises(NotFoundError, match="Unknown agent"):
            await k.agents.stop_agent("ag-none")
        await k.agents.stop_agent(aid)
        with pytest.raises(StateError, match="stopped"):
            await k.agents.stop_agent(aid)


async def test_system_switch_remembers_and_restores(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await _books(k)
        s1 = (await k.paper.create_session("a", token_ids=[YES])).session_id
        s2 = (await k.paper.create_session("b", token_ids=[YES])).session_id
        await k.paper.pause(s2)  # paused by hand: must stay paused after start_system
        a1 = (await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "below", "price": 0.1})).agent_id
        result = await k.system.stop_system()
        assert result.sessions == [s1] and result.agents == [a1]
        assert k.paper.state_of(s1) == "paused" and k.agents.view(a1).state == "stopped"
        with pytest.raises(StateError, match="already stopped"):
            await k.system.stop_system()
        status = await k.system.status()
        assert status.switch == "stopped" and status.sessions["paused"] == 2 and status.storage["ok"] is True
    async with kit(tmp_path) as k2:  # the switch and the remembered sets survive a restart
        assert k2.system.switch == "stopped"
        started = await k2.system.start_system()
        assert started.sessions == [s1] and started.agents == [a1]
        assert k2.paper.state_of(s1) == "running" and k2.paper.state_of(s2) == "paused"
        assert k2.agents.view(a1).state == "running"
        page = await k2.system.read_activity(0, 500)
        kinds = [e.kind for e in page.entries]
        assert "system_stopped" in kinds and kinds[-1] == "system_started"
        with pytest.raises(InvalidInputError, match="limit"):
            await k2.system.read_activity(0, 10_000)
