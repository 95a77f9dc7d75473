"""PolyBolt reference prices through the feed engine against the simulated PolyBolt server.

Reconnect delays go through an injected sleep that records them and returns at once, with a seeded RNG,
so every delay is checked exactly without waiting.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from polymarket_realtime.clock import SYSTEM_CLOCK, Clock
from polymarket_realtime.config import Settings
from polymarket_realtime.errors import AuthError
from polymarket_realtime.feed.books import BookStore
from polymarket_realtime.feed.manager import WebSocketManager
from polymarket_realtime.model.events import Event, FeedStatus, ReferencePrice
from polymarket_realtime.routing.eventlog import EventLog
from polymarket_realtime.routing.router import EventRouter, Subscription
from polymarket_realtime.secrets import Secret
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.polybolt import OBSERVED_PATH
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.sim_settings import fast_settings

pytestmark = pytest.mark.anyio

SEED = 7
BASE_S = 0.05  # fast_settings' reconnect_base_s


@dataclass(frozen=True)
class Creds:
    api_key: Secret
    secret: Secret
    passphrase: Secret


@dataclass
class Rig:
    sim: Simulator
    manager: WebSocketManager
    log: EventLog
    delays: list[float]
    calls: list[bool] = field(default_factory=list)

    def events(self) -> list[Event]:
        return [e.event for e in self.log.read(0, 10_000).entries]

    def prices(self) -> list[ReferencePrice]:
        return [e for e in self.events() if isinstance(e, ReferencePrice)]

    def statuses(self, state: str) -> list[FeedStatus]:
        return [e for e in self.events() if isinstance(e, FeedStatus) and e.state == state]

    def opened(self) -> list[Any]:
        return self.sim.observed.on(OBSERVED_PATH)

    async def until(self, predicate: Callable[[], bool]) -> None:
        await self.sim.wait_until(predicate, timeout=10.0)


def good_creds(sim: Simulator) -> Creds:
    issued = sim.credentials._issue("0x" + "ab" * 20, 0)
    return Creds(Secret(issued.api_key), Secret(issued.secret), Secret(issued.passphrase))


def bad_creds(sim: Simulator) -> Creds:
    good = good_creds(sim)
    return Creds(good.api_key, Secret("d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="), good.passphrase)


@asynccontextmanager
async def rig(
    tmp_path: Path,
    *,
    creds: str | None = "good",
    refreshed: str = "good",
    rate: float = 0.0,
    clock: Clock = SYSTEM_CLOCK,
    paced: bool = False,
) -> AsyncIterator[Rig]:
    """``creds``: what the provider returns first (None: no provider); ``refreshed``: after a refresh."""
    config = SimulatorConfig(
        seed=SEED, markets=2, rate_per_s=0, rtds_rate_per_s=0, resolve_after_s=None, polybolt_rate_per_s=rate
    )
    async with Simulator(config) as sim:
        settings = fast_settings(sim, tmp_path)
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)
            if paced:  # the simulator's frame-rate limit runs on real time: the socket must really wait
                await anyio.sleep(seconds)
            await anyio.lowlevel.checkpoint()

        books = BookStore()
        router = EventRouter(books)
        async with (
            ClobRestClient(settings) as rest,
            WebSocketManager(
                settings,
                books=books,
                router=router,
                clob_rest=rest,
                rng=random.Random(SEED),
                polybolt_sleep=sleep,
                clock=clock,
            ) as manager,
        ):
            log = EventLog(10_000)
            router.add(
                Subscription(
                    "ref", "reference_prices", frozenset(), frozenset(), frozenset({"reference_price", "feed_status"}),
                    log=log,
                )
            )  # fmt: skip
            r = Rig(sim, manager, log, delays)
            choices = {"good": good_creds(sim), "bad": bad_creds(sim)}
            if creds is not None:

                async def provider(refresh: bool) -> Creds:
                    r.calls.append(refresh)
                    return choices[refreshed if refresh else creds]

                manager.set_polybolt_credentials_provider(provider)
            yield r


def conn_status(r: Rig, index: int = 0) -> dict[str, Any]:
    shards: list[dict[str, Any]] = r.manager.status().as_dict()["connections"]["polybolt"]["shards"]
    return shards[index]


async def test_auth_then_subscribe_snapshot_then_live_points(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.manager.subscribe_reference_prices(["crypto:btcusd", "equity:aapl:pyth"])
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])  # ref-counted: one venue subscription
        await r.until(lambda: len({(p.channel, p.symbol) for p in r.prices()}) == 2)
        (obs,) = r.opened()
        ops = [json.loads(t)["op"] for t in obs.texts]
        assert ops[0] == "auth" and set(ops[1:]) == {"subscribe"}  # subscribe only after `authed`
        subscribed = [item for t in obs.texts[1:] for item in json.loads(t)["subscriptions"]]
        assert sorted(json.dumps(i, sort_keys=True) for i in subscribed) == sorted(
            [
                json.dumps({"channel": "price.crypto", "filter": {"symbol": "btcusd"}}, sort_keys=True),
                json.dumps(
                    {"channel": "price.equity", "filter": {"provider": "pyth", "symbol": "aapl"}}, sort_keys=True
                ),
            ]
        )
        assert all(p.snapshot for p in r.prices())
        r.sim.polybolt.publish("crypto", "btcusd", "64126.12345678")
        await r.until(lambda: any(not p.snapshot for p in r.prices()))
        live = [p for p in r.prices() if not p.snapshot]
        assert live[0].value == Decimal("64126.12345678") and live[0].source == "pyth"
        assert live[0].channel == "crypto" and live[0].symbol == "btcusd"
        equity = [p for p in r.prices() if p.channel == "equity"]
        assert {p.source for p in equity} == {"pyth"}
        status = conn_status(r)
        assert status["auth"] == "authed" and status["providers"] == {"equity:aapl:pyth": "pyth"}
        assert r.calls == [False]
        text = json.dumps(r.manager.status().as_dict(), default=str)
        assert good_creds(r.sim).secret.reveal() not in text and good_creds(r.sim).passphrase.reveal() not in text
        # The last release unsubscribes; the socket closes with the last subscription.
        await r.manager.unsubscribe_reference_prices(["crypto:btcusd"])
        assert r.sim.polybolt.subscriptions() == [{("price.crypto", "btcusd", ""), ("price.equity", "aapl", "pyth")}]
        await r.manager.unsubscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: r.sim.polybolt.subscriptions() == [{("price.equity", "aapl", "pyth")}])
        await r.manager.unsubscribe_reference_prices(["equity:aapl:pyth"])
        await r.until(lambda: not obs.open)


async def test_missing_credentials_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    async with rig(tmp_path, creds=None) as r:
        with pytest.raises(AuthError) as info:
            await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        text = str(info.value)
        for variable in ("POLYGON_PRIVATE_KEY", "POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_PASSPHRASE"):
            assert variable in text
        assert r.manager.polybolt.wanted == frozenset() and not r.manager.polybolt.connections
        status = r.manager.status().as_dict()["connections"]["polybolt"]
        assert status["state"] == "idle" and status["credentials"] == "missing"
        assert r.opened() == []


async def test_refused_credentials_refresh_once_then_stop_with_advice(tmp_path: Path) -> None:
    async with rig(tmp_path, creds="bad", refreshed="bad") as r:
        await r.manager.subscribe_reference_prices(["crypto:ethusd"])
        await r.until(lambda: bool(r.statuses("auth_failed")))
        await r.until(lambda: conn_status(r)["state"] == "failed")
        assert r.calls == [False, True]  # one refresh, then no blind retry
        (failed,) = r.statuses("auth_failed")
        assert "refused" in failed.detail
        assert "POLYMARKET_API_KEY" in failed.detail and "POLYGON_PRIVATE_KEY" in failed.detail
        assert "polymarket-realtime-mcp doctor" in failed.detail
        assert conn_status(r)["auth"] == "refused"
        (obs,) = r.opened()
        assert [json.loads(t)["op"] for t in obs.texts] == ["auth", "auth"]  # never subscribed unauthenticated
        await r.until(lambda: not obs.open)
        assert len(r.opened()) == 1 and r.delays == []


async def test_refused_credentials_recover_after_refresh(tmp_path: Path) -> None:
    async with rig(tmp_path, creds="bad", refreshed="good") as r:
        await r.manager.subscribe_reference_prices(["crypto:ethusd"])
        await r.until(lambda: bool(r.prices()))
        assert r.calls == [False, True] and conn_status(r)["auth"] == "authed" and len(r.opened()) == 1


async def test_close_4001_refreshes_once_then_reports_refused(tmp_path: Path) -> None:
    async with rig(tmp_path, creds="bad", refreshed="bad") as r:
        r.sim.polybolt.faults.close_4001_on_bad_auth = True
        await r.manager.subscribe_reference_prices(["crypto:ethusd"])
        await r.until(lambda: conn_status(r)["state"] == "failed")
        assert r.calls == [False, True] and len(r.opened()) == 2
        assert conn_status(r)["last_close_code"] == 4001 and conn_status(r)["auth"] == "refused"
        (failed,) = r.statuses("auth_failed")
        assert "4001" in failed.detail and "POLYGON_PRIVATE_KEY" in failed.detail
        assert r.delays == [random.Random(SEED).uniform(0, BASE_S)]


async def test_auth_unavailable_retries_on_the_same_socket(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.polybolt.faults.auth_unavailable = 2
        await r.manager.subscribe_reference_prices(["crypto:solusd"])
        await r.until(lambda: bool(r.prices()))
        (obs,) = r.opened()
        assert [json.loads(t)["op"] for t in obs.texts] == ["auth", "auth", "auth", "subscribe"]
        unavailable = r.statuses("auth_failed")
        assert len(unavailable) == 2 and all("unavailable" in s.detail and "venue" in s.detail for s in unavailable)
        rng = random.Random(SEED)
        assert r.delays == [rng.uniform(0, BASE_S), rng.uniform(0, 2 * BASE_S)]  # backoff between auth frames


async def _reconnected(r: Rig, code: int) -> None:
    await r.manager.subscribe_reference_prices(["crypto:btcusd", "equity:xauusd:chainlink"])
    await r.until(lambda: len(r.prices()) >= 4)
    r.sim.polybolt.close_all(code, "test")
    await r.until(lambda: len(r.opened()) == 2 and len(r.sim.polybolt.subscriptions()) == 1)
    await r.until(lambda: r.sim.polybolt.subscriptions() == [
        {("price.crypto", "btcusd", ""), ("price.equity", "xauusd", "chainlink")}
    ])  # fmt: skip
    _, second = r.opened()
    ops = [json.loads(t)["op"] for t in second.texts]
    assert ops[0] == "auth" and ops.count("subscribe") >= 1  # re-auth, then resubscribe (with the pin)
    await r.until(lambda: sum(p.snapshot for p in r.prices()) >= 8)  # reseeded from fresh snapshots


async def test_close_4003_reconnects_once_after_uniform_0_to_10s(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await _reconnected(r, 4003)
        assert r.delays == [random.Random(SEED).uniform(0, 10)]
        assert conn_status(r)["reconnects"] == 1 and conn_status(r)["last_close_code"] == 4003


@pytest.mark.parametrize("code", [4002, 1006, 1011])
async def test_close_4002_and_abnormal_back_off_with_full_jitter(tmp_path: Path, code: int) -> None:
    async with rig(tmp_path) as r:
        await _reconnected(r, code)
        assert r.delays == [random.Random(SEED).uniform(0, BASE_S)]


async def test_close_4008_is_our_bug_no_blind_reconnect(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        r.sim.polybolt.close_all(4008, "policy")
        await r.until(lambda: bool(r.statuses("failed")))
        (failed,) = r.statuses("failed")
        assert "4008" in failed.detail and "bug" in failed.detail
        assert conn_status(r)["state"] == "failed" and r.delays == [] and len(r.opened()) == 1
        # An explicit reconnect request restarts it.
        assert await r.manager.force_reconnect("polybolt") == 1
        await r.until(lambda: len(r.opened()) == 2 and r.opened()[1].subscribed)


class FrozenWallClock:
    """Real monotonic time, a fixed wall clock: an HTTP-date ``Retry-After`` then means an exact wait."""

    def __init__(self, now_s: int) -> None:
        self.now_s = now_s

    def monotonic(self) -> float:
        return SYSTEM_CLOCK.monotonic()

    def time_ns(self) -> int:
        return self.now_s * 1_000_000_000


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_upgrade_429_waits_retry_after_plus_jitter(tmp_path: Path, form: str) -> None:
    now_s = 1_796_000_000
    async with rig(tmp_path, clock=FrozenWallClock(now_s)) as r:
        r.sim.polybolt.faults.refuse_upgrades = 1
        r.sim.polybolt.faults.retry_after_s = 3
        if form == "http-date":
            r.sim.polybolt.faults.retry_after_date = formatdate(now_s + 3, usegmt=True)
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        assert r.sim.observed.refused == 1
        assert r.delays == [3 + random.Random(SEED).uniform(0, BASE_S)]


async def test_seq_gap_and_dropped_are_surfaced(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        r.sim.polybolt.faults.skip_seq = 3
        r.sim.polybolt.publish("crypto", "btcusd", "64000.5")
        await r.until(lambda: bool(r.statuses("lossy")))
        (gap,) = r.statuses("lossy")
        assert "crypto" in gap.detail and "seq gap 1 -> 5" in gap.detail
        r.sim.polybolt.faults.report_dropped = 2
        r.sim.polybolt.publish("crypto", "btcusd", "64001.5")
        await r.until(lambda: len(r.statuses("lossy")) == 2)
        assert "dropped 2" in r.statuses("lossy")[1].detail
        status = r.manager.status().as_dict()["connections"]["polybolt"]
        assert status["seq_gaps"] == 1 and status["frames_lost"] == 3 + 2
        # The points themselves are still delivered.
        assert {p.value for p in r.prices() if not p.snapshot} == {Decimal("64000.5"), Decimal("64001.5")}


async def test_more_than_64_subscriptions_are_sharded(tmp_path: Path) -> None:
    from polymarket_realtime.venues.polymarket import polybolt as pb

    keys = [f"{channel}:{symbol}" for channel, symbols in pb.SYMBOLS.items() for symbol in symbols]
    keys += [f"equity:{symbol}:pyth" for symbol in pb.SYMBOLS["equity"][:16]]
    assert len(keys) == 65
    async with rig(tmp_path) as r:
        await r.manager.subscribe_reference_prices(keys)
        await r.until(lambda: sorted(len(s) for s in r.sim.polybolt.subscriptions()) == [1, 64])
        assert len(r.opened()) == 2 and all(o.authenticated for o in r.opened())
        status = r.manager.status().as_dict()["connections"]["polybolt"]
        assert status["assets"] == 65 and len(status["shards"]) == 2
        # Nothing breached a limit (the simulator closes with 4008 on any breach).
        assert all(o.open for o in r.opened())
        assert all(s["last_close_code"] is None for s in status["shards"])


async def test_provider_that_cannot_refresh_reports_refused_with_its_advice(tmp_path: Path) -> None:
    from polymarket_realtime.venues.polymarket.credentials import rejected_error

    async with rig(tmp_path, creds="bad") as r:
        bad = bad_creds(r.sim)

        async def env_trio(refresh: bool) -> Creds:
            r.calls.append(refresh)
            if refresh:  # an environment trio cannot be re-derived
                raise rejected_error("env")
            return bad

        r.manager.set_polybolt_credentials_provider(env_trio)
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: conn_status(r)["state"] == "failed")
        assert r.calls == [False, True] and conn_status(r)["auth"] == "refused"
        (failed,) = r.statuses("auth_failed")
        assert "Builder keys" in failed.detail and "POLYGON_PRIVATE_KEY" in failed.detail


async def test_never_more_than_8_auth_frames_on_one_socket(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.polybolt.faults.auth_unavailable = 10
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        first, second = r.opened()
        assert [json.loads(t)["op"] for t in first.texts] == ["auth"] * 8  # a ninth would be closed with 4008
        assert [json.loads(t)["op"] for t in second.texts] == ["auth", "auth", "auth", "subscribe"]
        assert all(
            s["last_close_code"] != 4008 for s in r.manager.status().as_dict()["connections"]["polybolt"]["shards"]
        )


async def test_polybolt_faults_over_the_control_api(tmp_path: Path) -> None:
    import httpx2

    async with rig(tmp_path) as r, httpx2.AsyncClient(base_url=r.sim.rest_url, timeout=10.0) as http:
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        answer = (await http.post("/_sim/polybolt", json={"skip_seq": 2})).json()
        assert answer == {"ok": True}
        point = {"channel": "crypto", "symbol": "btcusd", "value": "1.5"}
        answer = (await http.post("/_sim/polybolt", json={"publish": point})).json()
        assert answer["reached"] == 1
        await r.until(lambda: bool(r.statuses("lossy")))
        assert (await http.post("/_sim/polybolt", json={"close": 4003})).json()["closed"] == 1
        await r.until(lambda: len(r.opened()) == 2 and r.opened()[1].subscribed)


async def test_an_internal_error_stops_one_socket_not_the_feed(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        good = r.manager.polybolt.provider

        async def broken(refresh: bool) -> Creds:
            raise RuntimeError("provider bug")

        r.manager.set_polybolt_credentials_provider(broken)
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.statuses("failed")))
        assert "internal error" in r.statuses("failed")[0].detail and conn_status(r)["state"] == "failed"
        # The manager is still running: with a working provider, a reconnect request recovers the socket.
        r.manager.set_polybolt_credentials_provider(good)
        assert await r.manager.force_reconnect("polybolt") == 1
        await r.until(lambda: bool(r.prices()))


async def test_a_subscription_refused_with_auth_required_is_resent_after_reauth(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.polybolt.faults.auth_required = 1  # the venue forgets the auth for one subscribe
        await r.manager.subscribe_reference_prices(["crypto:btcusd"])
        await r.until(lambda: bool(r.prices()))
        (obs,) = r.opened()
        assert [json.loads(t)["op"] for t in obs.texts] == ["auth", "subscribe", "auth", "subscribe"]
        assert r.sim.polybolt.subscriptions() == [{("price.crypto", "btcusd", "")}]
        assert r.prices()[0].symbol == "btcusd" and r.sim.polybolt.faults.auth_required == 0


def test_polybolt_backoff_is_capped_at_30s() -> None:
    from polymarket_realtime.feed.polybolt import PolyBoltConnection

    async def no_sleep(seconds: float) -> None:
        return None

    settings = Settings.from_env({}, env_file=Path(os.devnull)).replace(reconnect_base_s=1.0, reconnect_max_s=120.0)
    conn = PolyBoltConnection(
        "polybolt-0", settings, keys=tuple, provider=lambda: None, on_events=lambda events: None,
        on_status=lambda c, state, detail: None, taps=[], rng=random.Random(SEED), clock=SYSTEM_CLOCK,
        sleep=no_sleep,
    )  # fmt: skip
    assert conn.backoff.max_s == 30.0
    for _ in range(12):
        assert conn.backoff.next_delay() <= 30.0


async def test_subscribe_frames_are_paced_with_the_injected_sleep(tmp_path: Path) -> None:
    from polymarket_realtime.venues.polymarket import polybolt as pb

    keys = [f"equity:{symbol}:pyth" for symbol in pb.SYMBOLS["equity"][:20]]  # a pinned key is a frame alone
    async with rig(tmp_path, paced=True) as r:
        await r.manager.subscribe_reference_prices(keys)
        await r.until(lambda: [len(s) for s in r.sim.polybolt.subscriptions()] == [20])
        (obs,) = r.opened()
        assert [json.loads(t)["op"] for t in obs.texts].count("subscribe") == 20
        # 20 frames, 18 per second: the socket waited (injected sleep) instead of breaching the venue's limit.
        assert r.delays and all(0 < d <= 1.001 for d in r.delays)
        assert obs.open and conn_status(r)["last_close_code"] is None
