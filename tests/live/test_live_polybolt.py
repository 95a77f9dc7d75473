"""Production check of PolyBolt reference prices (needs internet and POLYGON_PRIVATE_KEY):
`pytest -m slow tests/live/test_live_polybolt.py`. Read-only: nothing is placed or cancelled."""

from __future__ import annotations

import os
import random
from decimal import Decimal
from pathlib import Path

import anyio
import httpx2
import pytest

from polymarket_realtime.auth.l2 import ApiCredentials
from polymarket_realtime.config import Settings
from polymarket_realtime.diagnostics.doctor import diagnose
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import FeedStatus, ReferencePrice
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.venues.polymarket.credentials import CredentialManager
from polymarket_realtime.venues.polymarket.rest import ClobRestClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.live,
    pytest.mark.anyio,
    pytest.mark.skipif(not os.environ.get("POLYGON_PRIVATE_KEY"), reason="POLYGON_PRIVATE_KEY is not set"),
]


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMARKET_") or k.startswith("POLYMARKET_CHAIN")}
    env.update({"POLYMARKET_MCP_DATA_DIR": str(tmp_path), "POLYGON_PRIVATE_KEY": os.environ["POLYGON_PRIVATE_KEY"]})
    return Settings.from_env(env, env_file=Path(os.devnull))


async def test_live_reference_prices_auth_snapshot_and_live_points(live_settings: Settings) -> None:
    books = BookStore()
    router = EventRouter(books)
    log = EventLog(10_000)
    wanted = frozenset({"reference_price", "feed_status"})
    router.add(Subscription("ref", "reference_prices", frozenset(), frozenset(), wanted, log=log))
    async with (
        httpx2.AsyncClient(timeout=20.0) as http,
        ClobRestClient(live_settings) as rest,
        WebSocketManager(live_settings, books=books, router=router, clob_rest=rest, rng=random.Random()) as manager,
    ):
        credentials = CredentialManager(live_settings, http=http)

        async def provide(refresh: bool) -> ApiCredentials:
            return await credentials.get(refresh=refresh)

        manager.set_polybolt_credentials_provider(provide)
        await manager.subscribe_reference_prices(["crypto:btcusd", "crypto_twap:ethusd", "equity:aapl"])

        def prices() -> list[ReferencePrice]:
            return [e.event for e in log.read(0, 10_000).entries if isinstance(e.event, ReferencePrice)]

        with anyio.fail_after(60):
            while not any(p.symbol == "btcusd" and not p.snapshot for p in prices()):
                await log.wait(log.last_seq, 60)
        status = manager.status().as_dict()["connections"]["polybolt"]
        assert status["auth"] == "authed", status
        btc = [p for p in prices() if p.symbol == "btcusd"]
        assert all(isinstance(p.value, Decimal) and p.value > 1000 and p.source for p in btc)
        failures = [
            e.event
            for e in log.read(0, 10_000).entries
            if isinstance(e.event, FeedStatus) and e.event.state == "failed"
        ]
        assert not failures  # no policy close (4008): our frames respect the limits


async def test_live_doctor_checks_polybolt(live_settings: Settings) -> None:
    report = await diagnose(live_settings, timeout_s=15.0)
    check = report.get("PolyBolt socket")
    assert check.status == "ok", check
