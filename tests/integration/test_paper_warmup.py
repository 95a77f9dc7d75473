"""Books warm up before trading: create-then-trade on a just-resubscribed token, and honest refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.server.ext_paper import PaperExtension

from ._mcp_harness import running

pytestmark = pytest.mark.anyio


def _limit_buy(sid: str, token: str) -> dict[str, Any]:
    return {
        "session_id": sid,
        "token_id": token,
        "side": "BUY",
        "size": 5,
        "order_type": "limit",
        "limit_price": "0.01",
    }


@pytest.mark.parametrize(
    "waits",
    [
        pytest.param({"book_warmup_s": 5.0, "order_book_wait_s": 0.0}, id="create-waits"),
        pytest.param({"book_warmup_s": 0.0, "order_book_wait_s": 3.0}, id="order-waits"),
    ],
)
async def test_create_then_trade_on_a_just_resubscribed_token(tmp_path: Path, waits: dict[str, float]) -> None:
    """Stop a session, create a new one on the same token, place a limit order at once (issue 11).

    Before books were awaited this was refused with "No live book ... yet" in 2 of 3 runs."""
    async with running(tmp_path, extensions=[PaperExtension()], **waits) as h:
        yes = h.market(0).token_ids[0]
        for run in range(3):
            created = await h.call("create_paper_session", {"name": f"run {run}", "token_ids": [yes]})
            sid = created["session_id"]
            if waits["book_warmup_s"]:
                assert created["warmup"]["tokens"] == {yes: "ready"} and created["warmup"]["feed"] == {}
                assert created["tokens"][0]["book"] == "live"
            order = await h.call("place_paper_order", _limit_buy(sid, yes))
            assert order["order"]["status"] in ("open", "filled", "partially_filled")
            await h.call("stop_paper_session", {"session_id": sid})
        if waits["book_warmup_s"]:
            # The token was just released again: start_agent subscribes it and waits for its book the same way.
            alert = {"token_id": yes, "condition": "above", "price": 0.99}
            agent = await h.call("start_agent", {"kind": "price_alert", "config": alert})
            assert agent["warmup"]["tokens"] == {yes: "ready"}, agent["warmup"]


async def test_cold_book_refusal_names_the_wait_and_the_feed_state(tmp_path: Path) -> None:
    waits = {"book_warmup_s": 0.3, "order_book_wait_s": 0.4}
    async with running(tmp_path, extensions=[PaperExtension()], **waits) as h:
        yes = h.market(1).token_ids[0]
        h.sim.faults.refuse_connections(60)  # the token's new socket is answered HTTP 503: the book stays cold
        created = await h.call("create_paper_session", {"name": "cold", "token_ids": [yes]})
        warmup = created["warmup"]
        assert warmup["tokens"] == {yes: "warming"} and warmup["waited_s"] >= 0.3
        assert "market-0" in warmup["feed"][yes]
        await h.sim.wait_until(lambda: h.sim.observed.refused >= 1)

        error = await h.call_error("place_paper_order", _limit_buy(created["session_id"], yes))
        assert "No live book" in error
        waited = re.search(r"Waited (\d+\.\d)s for a live book \(limit 0\.4s", error)
        assert waited is not None and float(waited.group(1)) >= 0.4, error
        assert "feed: socket market-0" in error and "503" in error, error

        # Bad input is refused at once, not after the wait.
        bad = dict(_limit_buy(created["session_id"], yes), size=-1)
        assert "size must be a positive number" in await h.call_error("place_paper_order", bad)

        # The agent start reports the same warm-up state.
        agent = await h.call(
            "start_agent", {"kind": "price_alert", "config": {"token_id": yes, "condition": "above", "price": 0.9}}
        )
        assert agent["warmup"]["tokens"] == {yes: "warming"} and "market-0" in agent["warmup"]["feed"][yes]
