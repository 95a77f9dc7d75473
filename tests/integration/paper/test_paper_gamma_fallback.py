"""Resolution fallback: with no venue ``market_resolved`` event, the Gamma poll settles positions.

For a Protocol V2 market the poll finds the market by its 75-digit position id and reads Gamma
``resolutionStatus`` (the venue's event for V2 markets has not been observed).

Real simulator Gamma over loopback, real GammaClient, real SQLite; books fed directly (no socket), so
the only way the session can learn about the resolution is the poll.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import anyio
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.model.events import BookSnapshot, Level
from polymarket_realtime.paper.service import PaperService
from polymarket_realtime.simulator import Simulator
from polymarket_realtime.storage.activity import ActivityFeed
from polymarket_realtime.storage.db import Database
from polymarket_realtime.venues.polymarket.gamma import GammaClient

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_gamma_poll_settles_when_the_venue_event_never_comes(
    simulator: Simulator, sim_settings: Settings, tmp_path: Path, version: str
) -> None:
    # v2: the simulator's third market (75-digit position ids; settled by Gamma resolutionStatus).
    market = simulator.model.markets[0 if version == "v1" else 2]
    assert market.version == version
    yes, no = market.token_ids
    books = BookStore()
    for token in (yes, no):
        books.apply(
            BookSnapshot(
                asset_id=token,
                market=market.condition_id,
                bids=(Level(D("0.40"), D("100")),),
                asks=(Level(D("0.60"), D("100")),),
                tick_size=D("0.01"),
            )
        )
    with Database(tmp_path / "state.sqlite3") as db:
        async with GammaClient(sim_settings, cache_ttl_s=0) as gamma, anyio.create_task_group() as tg:
            paper = PaperService(db, ActivityFeed(db), books, markets=gamma, resolution_poll_s=0.05)
            await paper.start(tg)
            sid = (await paper.create_session("g", token_ids=[yes, no])).session_id
            await paper.place_order(sid, no, "BUY", D("10"))  # NO at 0.60
            simulator.model.resolve(market.condition_id, winner=0)  # YES wins; nothing is broadcast
            # The poll runs in its own task; its settlement commit notifies `changed`.
            assert await paper.changed.wait_for(lambda: not paper.position_size(sid, no), timeout_s=15)
            detail = await paper.get_session(sid)
            assert D(detail.cash) == D(1000) - D("6")  # the losing side pays 0
            assert D(detail.realized_pnl) == D("-6")
            entries, _ = await paper._activity.read(0, 100)
            assert any(e.kind == "position_settled" and e.data["source"] == "gamma" for e in entries)
            tg.cancel_scope.cancel()
