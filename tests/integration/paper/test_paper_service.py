"""PaperService against a real BookStore/EventRouter and a real SQLite file (no network)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.errors import InvalidInputError, NotFoundError, RiskLimitError, StaleDataError, StateError
from polymarket_realtime.model.events import MarketResolved
from tests.integration._paper_kit import MARKET, NO, YES, Kit, change, kit, snapshot, trade

pytestmark = pytest.mark.anyio

BOOK = snapshot(YES, [("0.48", "100"), ("0.47", "200")], [("0.52", "50"), ("0.53", "100")])


async def _session(k: Kit, **kwargs: Any) -> str:
    await k.push(BOOK)
    await k.push(snapshot(NO, [("0.47", "100")], [("0.53", "100")]))
    detail = await k.paper.create_session("s", token_ids=[YES, NO], **kwargs)
    return detail.session_id


async def _state(k: Kit, sid: str) -> tuple[Any, ...]:
    d = await k.paper.get_session(sid)
    _, latest = await k.activity.read(0, 1)
    return (d.state, d.cash, [p.model_dump() for p in d.positions], [o.order_id for o in d.orders], latest)


async def test_market_order_walks_book_partial_and_persists(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k, fee_bps=D("100"))
        res = await k.paper.place_order(sid, YES, "BUY", D("200"))
        assert res.order.status == "partially_filled" and res.order.filled == "150"
        assert "unfilled and cancelled" in res.order.reason
        assert res.order.average_fill_price == str((D("26") + D("53")) / D("150"))
        assert [(f.price, f.size) for f in res.fills] == [("0.52", "50"), ("0.53", "100")]
        fee = D("0.26") + D("0.53")  # 1% of each leg's notional
        assert D(res.cash) == D(1000) - D("79") - fee
        detail = await k.paper.get_session(sid)
        (pos,) = detail.positions
        assert pos.size == "150" and pos.mark == "0.5"
        # equity = cash + 150 * mid(0.50)
        assert D(detail.equity) == D(res.cash) + D("75")
    async with kit(tmp_path) as k2:  # a fresh process sees exactly the same state
        again = await k2.paper.get_session(sid)
        assert again.cash == res.cash and again.positions[0].average_price == pos.average_price
        assert [f.fill_id for f in again.recent_fills] == sorted(f.fill_id for f in res.fills)[::-1]


async def test_limit_rests_then_fills_on_book_and_trade(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        res = await k.paper.place_order(sid, YES, "BUY", D("30"), "limit", D("0.50"))
        assert res.order.status == "open" and res.fills == []
        oid = res.order.order_id
        # A trade through our price fills part of it (maker, at the limit).
        await k.push(trade(YES, "0.49", "10"))
        await k.until(lambda: k.paper._sessions[sid].orders[oid].filled == 10)
        # The ask drops through our bid: the rest fills at our limit.
        await k.push(change(YES, ("SELL", "0.50", "500")))
        await k.until(lambda: oid not in k.paper._sessions[sid].orders)
        detail = await k.paper.get_session(sid)
        assert {f.liquidity for f in detail.recent_fills} == {"maker"}
        assert detail.positions[0].size == "30" and detail.positions[0].average_price == "0.5"
        assert D(detail.cash) == D(1000) - D("15")


async def test_pause_blocks_buys_and_resting_fills_but_allows_sells(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        await k.paper.place_order(sid, YES, "BUY", D("20"))
        resting = await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.45"))
        await k.paper.pause(sid)
        with pytest.raises(StateError, match="paused") as err:
            await k.paper.place_order(sid, YES, "BUY", D("10"))
        assert err.value.state == "paused"
        with pytest.raises(StateError, match="while it is paused"):
            await k.paper.pause(sid)
        sold = await k.paper.place_order(sid, YES, "SELL", D("5"))
        assert sold.order.status == "filled"
        await k.push(change(YES, ("BUY", "0.48", "0"), ("BUY", "0.47", "0"), ("SELL", "0.44", "100")))
        await k.settled()
        assert resting.order.order_id in k.paper._sessions[sid].orders  # did not fill while paused
        await k.paper.resume(sid)
        await k.push(change(YES, ("SELL", "0.44", "101")))
        await k.until(lambda: resting.order.order_id not in k.paper._sessions[sid].orders)


async def test_stop_cancels_resting_and_is_final(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        res = await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.40"))
        stopped = await k.paper.stop(sid)
        assert stopped.state == "stopped" and stopped.orders == []
        with pytest.raises(StateError, match="stopped"):
            await k.paper.resume(sid)
        with pytest.raises(StateError, match="read-only"):
            await k.paper.place_order(sid, YES, "SELL", D("5"))
        rows = await k.db.read(lambda c: c.execute("SELECT status, reason FROM orders").fetchall())
        assert [tuple(r) for r in rows] == [("cancelled", "session stopped")]
        assert res.order.order_id


async def test_risk_limits_reject_and_halt(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k, risk={"max_order_usd": 30, "max_drawdown_pct": 1})
        before = await _state(k, sid)
        with pytest.raises(RiskLimitError, match="max_order_usd") as err:
            await k.paper.place_order(sid, YES, "BUY", D("100"))
        assert err.value.limit == "max_order_usd"
        assert await _state(k, sid) == before
        await k.paper.place_order(sid, YES, "BUY", D("50"))  # 26 USD
        # The market collapses: the bid side disappears and the mid drops; drawdown > 1% halts.
        await k.push(change(YES, ("BUY", "0.48", "0"), ("BUY", "0.47", "0"), ("BUY", "0.05", "10")))
        await k.until(lambda: k.paper.state_of(sid) == "halted")
        detail = await k.paper.get_session(sid)
        assert "max_drawdown_pct" in detail.state_reason
        entries, _ = await k.activity.read(0, 100)
        assert any(e.kind == "risk_halt" and "drawdown" in e.message for e in entries)
        with pytest.raises(StateError, match="halted"):
            await k.paper.place_order(sid, YES, "BUY", D("5"))


async def test_settlement_on_resolution(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        await k.paper.place_order(sid, YES, "BUY", D("50"))  # at 0.52
        await k.paper.place_order(sid, NO, "BUY", D("10"))  # at 0.53
        resting = await k.paper.place_order(sid, YES, "BUY", D("10"), "limit", D("0.30"))
        await k.push(
            MarketResolved(
                market=MARKET, market_id="1", asset_ids=(YES, NO), winning_asset_id=YES, winning_outcome="Yes"
            )
        )
        await k.until(lambda: k.paper.position_size(sid, YES) == 0)
        detail = await k.paper.get_session(sid)
        assert D(detail.cash) == D(1000) - D("26") - D("5.3") + D("50")
        assert D(detail.realized_pnl) == D("50") * D("0.48") - D("5.3")
        assert resting.order.order_id not in [o.order_id for o in detail.orders]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p, s: p.place_order("ps-nope", YES, "BUY", D("10")), NotFoundError, "Unknown paper session"),
        (lambda p, s: p.place_order(s, "999", "BUY", D("10")), NotFoundError, "not part of session"),
        (lambda p, s: p.place_order(s, YES, "BUY", D("0")), InvalidInputError, "positive"),
        (lambda p, s: p.place_order(s, YES, "BUY", D("-5")), InvalidInputError, "positive"),
        (lambda p, s: p.place_order(s, YES, "BUY", D("10"), "limit", D("1.5")), InvalidInputError, "outside"),
        (lambda p, s: p.place_order(s, YES, "BUY", D("10"), "limit", D("0.505")), InvalidInputError, "tick"),
        (lambda p, s: p.place_order(s, YES, "SELL", D("10")), InvalidInputError, "Cannot sell"),
        (lambda p, s: p.place_order(s, YES, "BUY", D("5000"), "limit", D("0.5")), RiskLimitError, "Insufficient cash"),
        (lambda p, s: p.cancel_order(s, "po-nope"), NotFoundError, "No open order"),
        (lambda p, s: p.get_session("ps-nope"), NotFoundError, "Unknown paper session"),
        (lambda p, s: p.create_session("x", token_ids=[]), InvalidInputError, "at least one"),
        (lambda p, s: p.create_session("x", token_ids=[YES], starting_cash=D("-1")), InvalidInputError, "positive"),
        (lambda p, s: p.create_session("x", token_ids=[YES], risk={"max_x": 1}), InvalidInputError, "unknown risk"),
    ],
)
async def test_bad_inputs_change_nothing(tmp_path: Path, call: Any, error: type[Exception], match: str) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        await k.paper.place_order(sid, YES, "BUY", D("1000"), "limit", D("0.10"))  # ties up $100 of cash
        # Make the cash check bite at 5000 shares but not the others.
        before = await _state(k, sid)
        sessions_before = len(k.paper.list_sessions().sessions)
        with pytest.raises(error, match=match):
            await call(k.paper, sid)
        assert await _state(k, sid) == before
        assert len(k.paper.list_sessions().sessions) == sessions_before


async def test_stale_or_missing_book_fails_closed(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        await k.push(BOOK)
        sid = (await k.paper.create_session("s", token_ids=[YES, NO])).session_id
        with pytest.raises(StaleDataError, match="No live book"):
            await k.paper.place_order(sid, NO, "BUY", D("10"))
        k.books.mark_stale([YES], "socket closed")
        with pytest.raises(StaleDataError, match="stale"):
            await k.paper.place_order(sid, YES, "BUY", D("10"))
        assert (await k.paper.get_session(sid)).cash == "1000"


async def test_resting_orders_survive_restart_without_duplicate_fills(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        sid = await _session(k)
        await k.paper.place_order(sid, YES, "BUY", D("20"))
        resting = await k.paper.place_order(sid, YES, "SELL", D("10"), "limit", D("0.60"))
        fills_before = await k.db.read(lambda c: {r[0] for r in c.execute("SELECT id FROM fills")})
    async with kit(tmp_path) as k2:
        await k2.push(BOOK)
        assert resting.order.order_id in k2.paper._sessions[sid].orders
        await k2.push(trade(YES, "0.61", "4"))
        await k2.until(lambda: k2.paper._sessions[sid].orders[resting.order.order_id].filled == 4)
        rows = await k2.db.read(lambda c: [r[0] for r in c.execute("SELECT id FROM fills")])
        assert len(rows) == len(set(rows)) == len(fills_before) + 1
        assert set(rows) - fills_before == {f"{resting.order.order_id}-f1"}
