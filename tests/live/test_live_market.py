"""Live check against production Polymarket (needs internet): `pytest -m slow tests/live/test_live_market.py`."""

from __future__ import annotations

import random
from pathlib import Path

import anyio
import httpx2
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.venues.polymarket.gamma import parse_market
from polymarket_realtime.venues.polymarket.rest import ClobRestClient

pytestmark = [pytest.mark.slow, pytest.mark.live]


async def active_tokens(settings: Settings, markets: int = 3) -> list[str]:
    """Outcome ids of a few of the most traded open markets, from Gamma's keyset list (ids chosen by version)."""
    params = {"closed": "false", "limit": "20", "order": "volume24hr", "ascending": "false"}
    async with httpx2.AsyncClient(base_url=settings.gamma_url, timeout=20) as client:
        response = await client.get("/markets/keyset", params=params)
        response.raise_for_status()
    tokens: list[str] = []
    picked = 0
    for raw in response.json()["markets"]:
        market = parse_market(raw)
        if not raw.get("enableOrderBook") or len(market.token_ids) != 2:
            continue
        tokens.extend(market.token_ids)
        picked += 1
        if picked == markets:
            break
    assert tokens, "Gamma returned no active order-book markets"
    return tokens


@pytest.mark.anyio
async def test_live_market_books_and_events_arrive(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)  # production endpoints and timings
    tokens = await active_tokens(settings)
    books = BookStore()
    router = EventRouter(books)
    log = EventLog(10_000)
    router.add(
        Subscription(
            "live",
            "prices",
            frozenset(tokens),
            frozenset(),
            frozenset({"book", "price_change", "last_trade_price", "best_bid_ask", "tick_size_change"}),
            depth=5,
            log=log,
        )
    )
    async with (
        ClobRestClient(settings) as rest,
        WebSocketManager(settings, books=books, router=router, clob_rest=rest, rng=random.Random(1)) as manager,
    ):
        await manager.subscribe_assets(tokens)
        with anyio.fail_after(30):
            while not all(books.get(t) is not None for t in tokens):
                await log.wait(log.last_seq, 5)
            # At least one live update beyond the snapshots.
            while not any(e.event.type != "book" for e in log.read(0, 10_000).entries):
                await log.wait(log.last_seq, 5)
        for token in tokens:
            book = books.get(token)
            assert book is not None
            bid, ask = book.best_bid(), book.best_ask()
            if bid is not None and ask is not None:
                assert bid < ask  # best-first: never the 0.01/0.99 "ghost" ends
        status = manager.status().as_dict()
        assert status["connections"]["market"]["state"] == "connected"
        assert status["statistics"]["malformed_frames"] == 0
        assert (await rest.get_time()) > 1_700_000_000
