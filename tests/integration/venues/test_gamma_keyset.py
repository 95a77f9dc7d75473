"""Gamma keyset pagination and deprecation notices, against the simulator's Gamma over loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from polymarket_realtime.diagnostics.doctor import diagnose
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.simulator.gamma import market_json, set_gamma_override
from polymarket_realtime.simulator.rest_server import HttpRequest, HttpResponse, json_response
from polymarket_realtime.venues.polymarket.gamma import GammaClient
from tests.sim_settings import fast_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(seed=5, markets=9, rate_per_s=0, resolve_after_s=None)) as simulator:
        yield simulator


class Recorder:
    """Records the query of every keyset request, then lets the simulator answer."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        if request.path.endswith("/keyset"):
            self.queries.append({k: list(v) for k, v in request.query.items()})
        return None


async def test_keyset_walk_follows_next_cursor_and_resends_filters(sim: Simulator, tmp_path: Path) -> None:
    recorder = Recorder()
    set_gamma_override(sim.model, recorder)
    async with GammaClient(fast_settings(sim, tmp_path)) as gamma:
        items = await gamma.keyset("markets", [("closed", "false"), ("tag_id", "7")], limit=4)
    assert [m["id"] for m in items] == [m.market_id for m in sim.model.markets]  # 9 markets over 3 pages
    assert len(recorder.queries) == 3
    assert "after_cursor" not in recorder.queries[0]
    assert recorder.queries[1]["after_cursor"] != recorder.queries[2]["after_cursor"]
    for query in recorder.queries:
        assert query["closed"] == ["false"] and query["tag_id"] == ["7"] and query["limit"] == ["4"]
        assert "offset" not in query
    assert sim.observed.rest_requests["GET /markets"] == 0


async def test_keyset_walk_restarts_from_page_one_when_a_cursor_is_refused(sim: Simulator, tmp_path: Path) -> None:
    sim.model.keyset_cursor_faults = 1  # the next request carrying a cursor gets HTTP 422
    async with GammaClient(fast_settings(sim, tmp_path)) as gamma:  # cached pages are refetched on restart
        items = await gamma.keyset("markets", [("closed", "false")], limit=4)
        assert gamma.keyset_restarts == 1
    ids = [m["id"] for m in items]
    assert ids == [m.market_id for m in sim.model.markets] and len(set(ids)) == len(ids)  # complete, no repeats
    assert sim.observed.rest_requests["GET /markets/keyset"] == 1 + 1 + 3  # page 1, refused page 2, full walk


async def test_events_keyset_and_closed_markets_need_closed_true(sim: Simulator, tmp_path: Path) -> None:
    async with GammaClient(fast_settings(sim, tmp_path), cache_ttl_s=0) as gamma:
        events = await gamma.keyset("events", [], limit=2)
        assert len(events) == len({m.event_id for m in sim.model.markets}) == 5
        target = sim.model.markets[4]
        sim.model.resolve(target.condition_id, winner=0)
        open_only = await gamma.keyset("markets", [("condition_ids", target.gamma_condition_id)])
        assert open_only == []  # the keyset list hides closed markets unless asked
        [closed] = await gamma.markets_by_condition_ids([target.condition_id])
        assert closed.closed and closed.winning_token_id == target.token_ids[0]


async def test_deprecation_headers_are_logged_once_per_route_and_shown_by_doctor(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"deprecation": "true", "sunset": "Fri, 01 Jan 2027 00:00:00 GMT", "warning": '299 - "moving"'}

    def deprecated(request: HttpRequest) -> HttpResponse | None:
        parts = [p for p in request.path.split("/") if p]
        if parts[:2] == ["markets", "slug"]:
            found = next(m for m in sim.model.markets if m.slug == parts[2])
            plain = json_response(market_json(found))
            return HttpResponse(plain.status, plain.body, plain.content_type, headers)
        return None

    set_gamma_override(sim.model, deprecated)
    settings = fast_settings(sim, tmp_path)
    with caplog.at_level(logging.WARNING, logger="polymarket_realtime.venues.polymarket.gamma"):
        async with GammaClient(settings) as gamma:
            for market in sim.model.markets[:3]:
                await gamma.get_market(market.slug)
            assert gamma.deprecations == {"/markets/slug/{slug}": headers}
    notes = [r for r in caplog.records if "deprecated" in r.getMessage()]
    assert (
        len(notes) == 1 and "/markets/slug/{slug}" in notes[0].getMessage() and "01 Jan 2027" in notes[0].getMessage()
    )

    report = await diagnose(settings, timeout_s=2.0)
    check = report.get("Gamma API")
    assert check.status == "warn" and "/markets/slug/{slug}" in check.detail and "01 Jan 2027" in check.detail
    set_gamma_override(sim.model, lambda request: None)
    clean = (await diagnose(settings, timeout_s=2.0)).get("Gamma API")
    assert clean.status == "ok"
    assert sim.observed.rest_requests["GET /markets"] == 0  # doctor never probes the offset list
