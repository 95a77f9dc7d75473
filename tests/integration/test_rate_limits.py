"""REST rate limiting and 429/503 retries against the simulator's injected faults, on a virtual clock.

The process-wide limiter is replaced by one on a :class:`FakeRateClock` (its ``sleep`` records the wait and
advances virtual time), so "waited at least Retry-After" is read off the clock, with no real sleeping.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx2
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.errors import VenueError, VenueUnavailableError
from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import Simulator
from polymarket_realtime.venues.polymarket import ratelimit
from polymarket_realtime.venues.polymarket.gamma import GammaClient
from polymarket_realtime.venues.polymarket.ratelimit import (
    FAMILIES,
    Family,
    RateLimiter,
    RetryPolicy,
    parse_retry_after,
)
from polymarket_realtime.venues.polymarket.rest import ClobRestClient
from tests.ratelimit_kit import FakeRateClock

from ._mcp_harness import running
from .test_user_channel import KEY

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> FakeRateClock:
    return FakeRateClock()


@pytest.fixture
def limiter(clock: FakeRateClock, monkeypatch: pytest.MonkeyPatch) -> RateLimiter:
    """The shared limiter on the virtual clock, with ``/book`` cut to 2 requests per 10 s."""
    families = {**FAMILIES, "clob:/book": Family("clob:/book", 2), "gamma:/markets": Family("gamma:/markets", 1)}
    shared = RateLimiter(families.values(), clock=clock, policy=RetryPolicy(attempts=3), rng=random.Random(5))
    monkeypatch.setattr(ratelimit, "_shared", shared)
    return shared


async def fault(sim: Simulator, kind: str, **body: object) -> None:
    async with httpx2.AsyncClient(timeout=10.0) as http:
        response = await http.post(sim.rest_url + "/_sim/fault", json={"kind": kind, **body})
    assert response.status_code == 200, response.text


def token(sim: Simulator) -> str:
    return str(sim.model.active_markets()[0].tokens[0].token_id)


async def test_limit_is_shared_by_every_client_and_delays_the_next_request(
    simulator: Simulator, sim_settings: Settings, limiter: RateLimiter, clock: FakeRateClock
) -> None:
    tok = token(simulator)
    async with ClobRestClient(sim_settings) as first, ClobRestClient(sim_settings) as second:
        await first.get_book(tok)
        clock.advance(2.0)
        await second.get_book(tok)
        assert clock.sleeps == []
        clock.advance(1.0)
        # Third /book in the window, from either client: waits until the first leaves it (t=10).
        book = await first.get_book(tok)
    assert book.asset_id == tok
    assert clock.sleeps == [pytest.approx(7.0)]
    assert simulator.observed.rest_requests["GET /book"] == 3
    status = limiter.status()
    assert status["throttled"] == 1 and status["throttled_by_family"] == {"clob:/book": 1}


@pytest.mark.parametrize("form", ["seconds", "http_date"])
async def test_429_waits_at_least_retry_after(
    simulator: Simulator, sim_settings: Settings, limiter: RateLimiter, clock: FakeRateClock, form: str
) -> None:
    # The HTTP-date is 7 s after the client's (virtual) wall clock reads the answer.
    date = format_datetime(datetime.fromtimestamp(clock.time() + 7, UTC), usegmt=True)
    header = "7" if form == "seconds" else date
    await fault(simulator, "http_429", path="/book", retry_after=header)
    async with ClobRestClient(sim_settings) as rest:
        book = await rest.get_book(token(simulator))
    assert book.bids or book.asks
    (waited,) = clock.sleeps
    assert 7.0 <= waited <= 7.0 * 1.1
    assert simulator.observed.rest_requests["GET /book"] == 2
    status = limiter.status()
    assert status["http_429"] == 1 and status["retries"] == 1 and status["gave_up"] == 0


async def test_503_backs_off_then_gives_up_after_bounded_attempts(
    simulator: Simulator, sim_settings: Settings, limiter: RateLimiter, clock: FakeRateClock
) -> None:
    await fault(simulator, "http_503", path="/time", count=5)
    async with ClobRestClient(sim_settings) as rest:
        with pytest.raises(VenueUnavailableError) as caught:
            await rest.get_time()
    assert caught.value.status == 503
    assert simulator.observed.rest_requests["GET /time"] == 3  # RetryPolicy(attempts=3)
    assert len(clock.sleeps) == 2 and 0.5 <= clock.sleeps[0] <= 0.55 and 1.0 <= clock.sleeps[1] <= 1.1
    assert limiter.status()["http_503"] == 3 and limiter.status()["gave_up"] == 1


async def test_retry_after_beyond_the_cap_is_reported_not_waited(
    simulator: Simulator, sim_settings: Settings, limiter: RateLimiter, clock: FakeRateClock
) -> None:
    await fault(simulator, "http_429", retry_after_s=600)  # any route
    async with GammaClient(sim_settings) as gamma:
        with pytest.raises(VenueError) as caught:
            await gamma.search("a")
    assert caught.value.status == 429 and clock.sleeps == []


async def test_status_shows_throttled_and_retried_requests(
    tmp_path: Path, limiter: RateLimiter, clock: FakeRateClock
) -> None:
    async with running(tmp_path) as h:
        slugs = [m.slug for m in h.sim.model.active_markets()[:2]]
        await fault(h.sim, "http_429", path="/markets", retry_after="3")
        await h.call("get_market", {"market": slugs[0]})
        await h.call("get_market", {"market": slugs[1]})  # gamma:/markets allows 1 per window here
        status = (await h.call("get_realtime_status"))["rate_limits"]
    assert status["http_429"] == 1 and status["retries"] == 1
    assert status["throttled"] >= 1 and status["throttled_by_family"].get("gamma:/markets", 0) >= 1
    assert min(clock.sleeps) >= 3.0


async def test_account_reads_and_key_derivation_draw_from_the_same_windows(
    tmp_path: Path, limiter: RateLimiter
) -> None:
    async with running(tmp_path, extensions=[EXTENSION], private_key=Secret(KEY)) as h:
        await h.call("get_open_orders")
        await h.call("get_recent_trades")
        await h.call("get_market", {"market": h.sim.model.active_markets()[0].slug})
    assert limiter.in_window("clob:auth") >= 1  # the API key was created or derived
    assert limiter.in_window("clob:/data/orders") == 1 and limiter.in_window("clob:/data/trades") == 1
    assert limiter.in_window("gamma:/markets") == 1
    assert limiter.in_window("clob") >= 3


async def test_simulator_serves_retry_after_in_both_forms_then_recovers(simulator: Simulator) -> None:
    params = {"token_id": token(simulator)}
    await fault(simulator, "http_429", path="/book", seconds=5)  # as `simulate --fault http_429 --seconds 5`
    await fault(simulator, "http_429", path="/book", retry_after_s=5, http_date=True)
    await fault(simulator, "http_503", path="/book")
    async with httpx2.AsyncClient(base_url=simulator.rest_url, timeout=10.0) as http:
        first, second, third, fourth = [await http.get("/book", params=params) for _ in range(4)]
    assert (first.status_code, first.headers["retry-after"]) == (429, "5")
    assert second.status_code == 429 and second.headers["retry-after"].endswith(" GMT")
    assert 3.0 <= (parse_retry_after(second.headers["retry-after"], now_s=time.time()) or 0) <= 5.0
    assert third.status_code == 503 and "retry-after" not in third.headers
    assert fourth.status_code == 200
