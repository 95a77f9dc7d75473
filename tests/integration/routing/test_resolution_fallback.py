"""The one Gamma resolution fallback (routing/resolution.py): one poll serves both the router (resolution
subscriptions and the paper sink) and direct listeners, and announces each market once.

Real simulator Gamma over loopback and a real GammaClient; time for the event stamps is injected.
"""

from __future__ import annotations

import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.model.events import MarketResolved
from polymarket_realtime.routing.resolution import ResolutionFallback
from polymarket_realtime.routing.router import EventRouter
from polymarket_realtime.simulator import Simulator
from polymarket_realtime.venues.polymarket.gamma import GammaClient

pytestmark = pytest.mark.anyio

WALL_NS = 1_800_000_000_123_000_000


class _Wall:
    def monotonic(self) -> float:
        return 0.0

    def time_ns(self) -> int:
        return WALL_NS


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_one_poll_routes_and_notifies_once_per_market(
    simulator: Simulator, sim_settings: Settings, version: str
) -> None:
    market = simulator.model.markets[0 if version == "v1" else 2]
    assert market.version == version
    yes, no = market.token_ids
    router = EventRouter()
    sink = router.add_sink("paper", 16, event_types=["market_resolved"])
    heard: list[MarketResolved] = []

    async def listener(event: MarketResolved) -> None:
        heard.append(event)

    async with GammaClient(sim_settings, cache_ttl_s=0) as gamma:
        fallback = ResolutionFallback(gamma, conditions=gamma, router=router, clock=_Wall(), poll_s=60)
        fallback.watch_tokens(lambda: {no})
        fallback.on_resolved(listener)
        assert await fallback.poll_once() == 0  # open market: nothing to announce
        simulator.model.resolve(market.condition_id, winner=0)
        assert await fallback.poll_once() == 1
        assert await fallback.poll_once() == 0  # announced once, then no longer polled
    routed = sink.get_nowait_batch()
    assert len(routed) == 1 and heard == routed
    event = routed[0]
    assert isinstance(event, MarketResolved)
    assert (event.winning_asset_id, event.source, set(event.asset_ids)) == (yes, "gamma", {yes, no})
    assert (event.ts_recv_ns, event.ts_event_ms) == (WALL_NS, WALL_NS // 1_000_000)
    assert fallback.polls == 2


async def test_a_venue_event_already_seen_is_not_announced_again(simulator: Simulator, sim_settings: Settings) -> None:
    market = simulator.model.markets[0]
    router = EventRouter()
    sink = router.add_sink("subs", 16, event_types=["market_resolved"])
    async with GammaClient(sim_settings, cache_ttl_s=0) as gamma:
        fallback = ResolutionFallback(gamma, conditions=gamma, router=router, poll_s=60)
        fallback.watch_tokens(lambda: set(market.token_ids))
        simulator.model.resolve(market.condition_id, winner=1)
        fallback.on_event(
            MarketResolved(
                market=market.condition_id,
                market_id="1",
                asset_ids=tuple(market.token_ids),
                winning_asset_id=market.token_ids[1],
                winning_outcome="No",
                source="ws",
            )
        )
        assert await fallback.poll_once() == 0
    assert sink.get_nowait_batch() == []
