"""Regression tests for review findings on paper sessions, agents and the master switch.

Real SQLite, real BookStore/EventRouter, real services; only wall-clock time is faked (ManualClock).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.errors import InvalidInputError, NotFoundError, RiskLimitError, StateError
from polymarket_realtime.model.events import MarketResolved
from polymarket_realtime.model.markets import MarketInfo
from polymarket_realtime.paper import lifecycle as service_mod
from polymarket_realtime.venues.polymarket.gamma import parse_market
from tests.integration._paper_kit import MARKET, NO, YES, Kit, ManualClock, change, kit, snapshot, trade

pytestmark = pytest.mark.anyio

BOOK = snapshot(YES, [("0.48", "100"), ("0.47", "200")], [("0.52", "50"), ("0.53", "100")])


async def _session(k: Kit, name: str = "s", **kwargs: Any) -> str:
    await k.push(BOOK)
    await k.push(snapshot(NO, [("0.47", "100")], [("0.53", "100")]))
    return (await k.paper.create_session(name, token_ids=[YES, NO], **kwargs)).session_id


class GammaMarkets:
    """One market parsed by the real Gamma parser from Gamma-shaped JSON with a ``feeSchedule`` (the
    simulator publishes no fees)."""

    def __init__(self) -> None:
        self.info: MarketInfo = parse_market(
            {
                "id": "77",
                "conditionId": MARKET,
                "outcomes": '["Yes", "No"]',
                "clobTokenIds": f'["{YES}", "{NO}"]',
                "feesEnabled": True,
                "feeSchedule": {"exponent": "1", "rate": "0.07", "taker_only": True},
            }
        )

    async def get_market(self, ref: str) -> MarketInfo:
        if ref in self.info.token_ids or ref in (self.info.market_id, self.info.condition_id):
            return self.info
        raise NotFoundError(f"no market {ref}")


# --- 1: resting buys reserve their worst-case fee -------------------------------------------------


async def test_resting_buy_reserves_fee_so_cash_never_goes_negative(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k, starting_cash=D("100"), fee_bps=D("1000"))
        # 200 @ 0.50 needs 100 notional + 10 fee (fee_bps applies to maker fills too): more than the cash.
        with pytest.raises(RiskLimitError, match="Insufficient cash") as err:
            await k.paper.place_order(sid, YES, "BUY", D("200"), "limit", D("0.50"))
        assert err.value.limit == "cash"
        await k.paper.place_order(sid, YES, "BUY", D("180"), "limit", D("0.50"))  # 90 + 9 fee
        with pytest.raises(RiskLimitError, match="Insufficient cash"):  # 1 free; 5 @ 0.20 needs 1.1
            await k.paper.place_order(sid, NO, "BUY", D("5"), "limit", D("0.20"))
        await k.push(trade(YES, "0.49", "1000"))
        await k.until(lambda: k.paper.position_size(sid, YES) == D("180"))
        detail = await k.paper.get_session(sid)
        assert D(detail.cash) == D("1") and D(detail.fees_paid) == D("9")
        assert D(detail.cash) >= 0


# --- 2: the daily loss limit holds until the UTC day ends; halted sessions may reduce -------------


async def test_daily_loss_halt_can_reduce_and_resumes_the_next_utc_day(tmp_path: Path) -> None:
    clock = ManualClock()
    async with kit(tmp_path, clock=clock) as k:
        sid = await _session(k, risk={"max_daily_loss_usd": 5})
        await k.paper.place_order(sid, YES, "BUY", D("50"))  # 26 at 0.52
        await k.push(change(YES, ("BUY", "0.48", "0"), ("BUY", "0.47", "0"), ("BUY", "0.30", "100")))
        await k.until(lambda: k.paper.state_of(sid) == "halted")
        with pytest.raises(StateError, match="daily loss"):
            await k.paper.resume(sid)
        # Halted behaves like paused for reducing orders: selling is allowed, buying is not.
        sold = await k.paper.place_order(sid, YES, "SELL", D("10"))
        assert sold.order.status == "filled" and k.paper.position_size(sid, YES) == D("40")
        with pytest.raises(StateError, match="halted"):
            await k.paper.place_order(sid, YES, "BUY", D("5"))
        clock.advance(24 * 3600)  # next UTC day: the daily limit starts over
        resumed = await k.paper.resume(sid)
        assert resumed.state == "running"
        assert D(resumed.day_start_equity) == D(resumed.equity)
    async with kit(tmp_path, clock=clock) as k2:  # the new day was committed with the resume
        again = await k2.paper.get_session(sid)
        assert again.state == "running" and again.day_start_equity == resumed.day_start_equity


# --- 3: the market fee schedule survives a restart ------------------------------------------------


async def test_market_fee_schedule_survives_restart_without_gamma(tmp_path: Path) -> None:
    async with kit(tmp_path, markets=GammaMarkets()) as k:
        sid = await _session(k, fee_bps=D("500"))
        first = await k.paper.place_order(sid, YES, "BUY", D("10"))  # at 0.52
        # schedule: 10 * 0.07 * (0.52 * 0.48) = 0.17472 (not 5% of notional = 0.26)
        assert first.fills[0].fee == "0.17472"
    async with kit(tmp_path) as k2:  # Gamma unreachable after the restart
        await k2.push(BOOK)
        second = await k2.paper.place_order(sid, YES, "BUY", D("10"))
        assert second.fills[0].fee == "0.17472"
        detail = await k2.paper.get_session(sid)
        assert "market schedule rate=0.07" in detail.tokens[0].fees


async def test_schedule_maker_fills_are_free_when_taker_only(tmp_path: Path) -> None:
    async with kit(tmp_path, markets=GammaMarkets()) as k:
        sid = await _session(k, starting_cash=D("10"))
        # Resting 19 @ 0.50 reserves 9.5 + the worst-case (taker) fee 0.1662... <= 10.
        await k.paper.place_order(sid, YES, "BUY", D("19"), "limit", D("0.50"))
        await k.push(trade(YES, "0.50", "100"))
        await k.until(lambda: k.paper.position_size(sid, YES) == D("19"))
        detail = await k.paper.get_session(sid)
        assert D(detail.fees_paid) == 0 and D(detail.cash) == D("0.5")
        assert detail.recent_fills[0].liquidity == "maker"


# --- 4: agents refuse unknown tokens --------------------------------------------------------------


async def test_start_agent_refuses_unknown_tokens_and_creates_nothing(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.push(BOOK)
        _, before = await k.activity.read(0, 1)
        with pytest.raises(NotFoundError, match="Unknown token id '999'"):
            await k.agents.start_agent("price_alert", {"token_id": "999", "condition": "above", "price": "0.5"})
        with pytest.raises(NotFoundError, match="Unknown token id '999'"):
            await k.agents.start_agent("market_scanner", {"token_ids": [YES, "999"]})
        assert k.agents.list_agents().agents == []
        _, after = await k.activity.read(0, 1)
        assert after == before
        ok = await k.agents.start_agent("price_alert", {"token_id": YES, "condition": "above", "price": "0.5"})
        assert ok.state == "running"
    async with kit(tmp_path, markets=GammaMarkets()) as k2:  # known through Gamma, no book yet
        assert (await k2.agents.start_agent("market_scanner", {"token_ids": [NO]})).state == "running"
        with pytest.raises(NotFoundError, match="no market has it"):
            await k2.agents.start_agent("price_alert", {"token_id": "999", "condition": "above", "price": "0.5"})


# --- 5: the master switch guards every start-type or exposure-increasing action ------------------


async def test_stopped_system_refuses_starts_and_buys_but_allows_reducing(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        await k.paper.place_order(sid, YES, "BUY", D("20"))
        await k.system.stop_system()
        assert k.paper.state_of(sid) == "paused"
        for call in (
            lambda: k.paper.create_session("x", token_ids=[YES]),
            lambda: k.paper.resume(sid),
            lambda: k.paper.resume_all(),
            lambda: k.paper.place_order(sid, YES, "BUY", D("5")),
            lambda: k.agents.start_agent("price_alert", {"token_id": YES, "condition": "above", "price": "0.5"}),
        ):
            with pytest.raises(StateError, match="start_system"):
                await call()
        sold = await k.paper.place_order(sid, YES, "SELL", D("5"))  # reducing still works
        assert sold.order.status == "filled"
        assert [s.session_id for s in k.paper.list_sessions().sessions] == [sid]
        await k.system.start_system()
        assert k.paper.state_of(sid) == "running"
        await k.paper.place_order(sid, YES, "BUY", D("5"))


# --- 6: one print / one level is allocated across resting orders ---------------------------------


async def test_trade_print_is_allocated_across_resting_orders_in_price_time_priority(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        old = (await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.50"))).order.order_id
        better = (await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.51"))).order.order_id
        await k.push(trade(YES, "0.50", "15"))
        await k.until(lambda: k.paper.position_size(sid, YES) == D("15"))
        detail = await k.paper.get_session(sid)
        assert [(o.order_id, o.filled) for o in detail.orders] == [(old, "5")]  # 0.51 first (price), then 0.50
        assert better not in [o.order_id for o in detail.orders]
        await k.settled()
        assert k.paper.position_size(sid, YES) == D("15")


async def test_book_depth_is_allocated_across_resting_orders(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        first = (await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.50"))).order.order_id
        second = (await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.50"))).order.order_id
        await k.push(change(YES, ("SELL", "0.50", "12")))  # 12 offered at 0.50 crosses both
        await k.until(lambda: k.paper.position_size(sid, YES) > 0)
        await k.settled()
        assert k.paper.position_size(sid, YES) == D("12")
        detail = await k.paper.get_session(sid)
        assert [(o.order_id, o.filled) for o in detail.orders] == [(second, "2")]  # time priority
        assert first not in [o.order_id for o in detail.orders]


# --- 7: peak equity and the day are persisted when they change ------------------------------------


async def test_new_peak_equity_is_committed_at_once(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k, risk={"max_drawdown_pct": 50})
        await k.paper.place_order(sid, YES, "BUY", D("50"))  # 26 at 0.52; equity 999 at mid 0.50
        await k.push(
            change(YES, ("SELL", "0.52", "0"), ("SELL", "0.53", "0"), ("SELL", "0.90", "100"), ("BUY", "0.70", "100"))
        )
        await k.settled()
        peak = (await k.paper.get_session(sid)).peak_equity
        assert D(peak) == D(1000) - D(26) + D(50) * D("0.80")
    async with kit(tmp_path) as k2:  # no other write happened: the peak must already be on disk
        assert (await k2.paper.get_session(sid)).peak_equity == peak


# --- 8: a stopped session's history stays read-only -----------------------------------------------


async def test_resolution_does_not_settle_stopped_sessions(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        stopped = await _session(k, "stopped")
        live = (await k.paper.create_session("live", token_ids=[YES])).session_id
        for sid in (stopped, live):
            await k.paper.place_order(sid, YES, "BUY", D("10"))
        await k.paper.stop(stopped)
        before = await k.paper.get_session(stopped)
        await k.push(
            MarketResolved(
                market=MARKET, market_id="1", asset_ids=(YES, NO), winning_asset_id=YES, winning_outcome="Yes"
            )
        )
        await k.until(lambda: k.paper.position_size(live, YES) == 0)
        await k.settled()
        after = await k.paper.get_session(stopped)
        assert (after.cash, after.positions, after.realized_pnl) == (before.cash, before.positions, before.realized_pnl)
        entries, _ = await k.activity.read(0, 100)
        assert not any(e.kind == "position_settled" and e.subject == stopped for e in entries)


# --- 11, 12: bounded starting cash; the cap counts active sessions only ----------------------------


async def test_starting_cash_is_bounded(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        with pytest.raises(InvalidInputError, match="at most"):
            await k.paper.create_session("rich", token_ids=[YES], starting_cash=D("1e13"))
        assert k.paper.list_sessions().sessions == []
        ok = await k.paper.create_session("max", token_ids=[YES], starting_cash=D("1e12"))
        assert D(ok.cash) == D("1e12")


async def test_session_cap_counts_only_active_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "MAX_SESSIONS", 2)
    async with kit(tmp_path) as k:
        a = await _session(k, "a")
        await _session(k, "b")
        with pytest.raises(StateError, match="At most 2") as err:
            await _session(k, "c")
        assert "stop one with stop_paper_session" in str(err.value)
        await k.paper.stop(a)
        assert (await k.paper.create_session("c", token_ids=[YES])).state == "running"
        assert len(k.paper.list_sessions().sessions) == 3


# --- 14: pause_all / resume_all -------------------------------------------------------------------


async def test_pause_all_and_resume_all(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        a = await _session(k, "a")
        b = await _session(k, "b")
        c = await _session(k, "c", risk={"max_drawdown_pct": 1})
        d = await _session(k, "d")
        await k.paper.stop(d)
        await k.paper.place_order(c, YES, "BUY", D("50"))
        await k.push(change(YES, ("BUY", "0.48", "0"), ("BUY", "0.47", "0"), ("BUY", "0.05", "10")))
        await k.until(lambda: k.paper.state_of(c) == "halted")
        paused = await k.paper.pause_all()
        assert sorted(paused.changed) == sorted([a, b])
        assert paused.skipped == {c: "is halted", d: "is stopped"}
        assert {k.paper.state_of(s) for s in (a, b)} == {"paused"}
        with pytest.raises(StateError, match="allowed now: resume, stop"):
            await k.paper.pause(a)
        resumed = await k.paper.resume_all()
        assert sorted(resumed.changed) == sorted([a, b])
        assert "resume_paper_session" in resumed.skipped[c] and resumed.skipped[d] == "is stopped"
        assert [k.paper.state_of(s) for s in (a, b, c, d)] == ["running", "running", "halted", "stopped"]
        entries, _ = await k.activity.read(0, 200)
        assert sum(e.kind == "session_paused" for e in entries) == 2
        assert sum(e.kind == "session_resumed" for e in entries) == 2
