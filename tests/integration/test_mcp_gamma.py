"""GammaClient against the simulator's Gamma API, and the pure parser on Gamma's quirks."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.errors import InvalidInputError, NotFoundError, VenueUnavailableError
from polymarket_realtime.simulator import Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket.gamma import GammaClient, classify_market_ref, parse_market

pytestmark = pytest.mark.anyio


def test_parse_market_decodes_json_strings_and_prefers_v2_position_ids() -> None:
    raw = {
        "id": "512",
        "question": "Will it rain?",
        "conditionId": "0x" + "ab" * 32,
        "slug": "will-it-rain",
        "outcomes": json.dumps(["Yes", "No"]),
        "outcomePrices": json.dumps(["0.35", "0.65"]),
        "clobTokenIds": json.dumps(["111", "222"]),
        "version": "v2",
        "positionIds": json.dumps(["333", "444"]),
        "volumeNum": 1234.5,
        "orderPriceMinTickSize": 0.01,
        "closed": False,
    }
    market = parse_market(raw)
    assert [(o.name, o.token_id, o.price) for o in market.outcomes] == [
        ("Yes", "333", Decimal("0.35")),
        ("No", "444", Decimal("0.65")),
    ]
    assert market.volume == Decimal("1234.5") and market.tick_size == Decimal("0.01")
    assert market.winning_outcome is None
    closed = parse_market({**raw, "version": "v1", "closed": True, "outcomePrices": '["0", "1"]'})
    assert closed.token_ids == ["111", "222"]  # chosen by version, although positionIds is present
    assert (closed.winning_outcome, closed.winning_token_id) == ("No", "222")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"version": "v3"}, "not streamable yet"),
        ({"version": ""}, "not streamable yet"),
        ({"version": "v2", "positionIds": None}, "positionIds is empty"),
        ({"version": "v2", "positionIds": ["12a", "34"]}, "non-decimal"),
        ({"version": "v1", "clobTokenIds": '["1", "2", "3"]'}, "2 outcomes but 3 ids"),
    ],
)
def test_parse_market_refuses_unsupported_versions_and_bad_ids(changes: dict[str, object], reason: str) -> None:
    raw = {
        "conditionId": "0x" + "ab" * 31,
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": '["111", "222"]',
        "positionIds": ["333", "444"],
    }
    market = parse_market({**raw, **changes})
    assert market.outcomes == () and market.unsupported_reason is not None and reason in market.unsupported_reason
    assert market.condition_id == "0x" + "ab" * 31 + "00"  # canonical 64-hex form


def test_v2_resolution_follows_resolution_status_not_closed() -> None:
    raw = {
        "version": "v2",
        "conditionId": "0x" + "cd" * 31,
        "outcomes": '["Yes", "No"]',
        "outcomePrices": '["1", "0"]',
        "positionIds": ["1" * 75, "2" * 75],
        "closed": True,
    }
    assert parse_market({**raw, "resolutionStatus": "active"}).winning_token_id is None
    settled = parse_market({**raw, "resolutionStatus": "resolved"})
    assert (settled.winning_outcome, settled.winning_token_id) == ("Yes", "1" * 75)
    # V1 keeps using umaResolutionStatus: closed but still disputed is not settled.
    v1 = {**raw, "version": "v1", "clobTokenIds": json.dumps(["7", "8"]), "umaResolutionStatus": "disputed"}
    assert parse_market(v1).winning_token_id is None
    assert parse_market({**v1, "umaResolutionStatus": "resolved"}).winning_token_id == "7"


def test_classify_market_ref() -> None:
    assert classify_market_ref("0x" + "0f" * 32) == "condition_id"
    assert classify_market_ref("0x" + "0f" * 31) == "condition_id"  # Protocol V2, as Gamma shows it
    assert classify_market_ref("9" * 75) == "token_id"  # a V2 position id
    assert classify_market_ref("1" * 70) == "token_id"
    assert classify_market_ref("512") == "gamma_id"
    assert classify_market_ref("will-it-rain") == "slug"
    with pytest.raises(InvalidInputError, match="search_markets"):
        classify_market_ref("Will it rain?")


async def test_client_against_simulator(tmp_path: Path) -> None:
    async with Simulator(SimulatorConfig(seed=4, markets=5, rate_per_s=0, resolve_after_s=None)) as sim:
        settings = Settings.from_env(sim.env(), env_file=Path(os.devnull)).replace(data_dir=tmp_path)
        async with GammaClient(settings) as gamma:
            target = sim.model.active_markets()[2]
            found = await gamma.search(target.question, limit=10)
            assert target.condition_id in {m.condition_id for m in found}
            by_slug = await gamma.get_market(target.slug)
            assert by_slug.token_ids == list(target.token_ids)
            assert (await gamma.get_market(target.token_ids[1])).condition_id == target.condition_id
            resolved = await gamma.resolve_token_ids([target.slug, target.condition_id])
            assert resolved == {target.slug: list(target.token_ids), target.condition_id: list(target.token_ids)}

            sim.model.resolve(target.condition_id, 0)
            gamma._cache.clear()  # the TTL cache would otherwise answer for a few seconds
            [closed] = await gamma.markets_by_condition_ids([target.condition_id])
            assert closed.closed and closed.winning_token_id == target.token_ids[0]
            with pytest.raises(NotFoundError, match="search_markets"):
                await gamma.get_market("no-such-market")

    async with GammaClient(settings) as gone:  # the simulator is stopped: unreachable endpoint
        with pytest.raises(VenueUnavailableError, match="POLYMARKET_GAMMA_URL"):
            await gone.get_market("anything")


def test_recorded_v2_metadata_round_trips_through_the_replay_gamma() -> None:
    from polymarket_realtime.simulator.replay import RecordedGamma
    from polymarket_realtime.simulator.rest_server import HttpRequest

    original = parse_market(
        {
            "id": "7",
            "slug": "v2-market",
            "version": "v2",
            "conditionId": "0x" + "12" * 31,
            "outcomes": '["Up", "Down"]',
            "positionIds": ["1" * 75, "2" * 75],
            "clobTokenIds": None,
            "resolutionStatus": "active",
        }
    )
    gamma = RecordedGamma([json.loads(json.dumps(original.to_dict()))])  # as a recording header stores it
    request = HttpRequest("GET", "/markets/keyset", {"condition_ids": ["0x" + "12" * 31]}, {})
    answer = gamma(request)
    assert answer is not None
    [raw] = json.loads(answer.body)["markets"]
    assert raw["conditionId"] == "0x" + "12" * 31 and raw.get("clobTokenIds") is None  # Gamma's own shape
    again = parse_market(raw)
    assert (again.version, again.condition_id, again.token_ids) == ("v2", original.condition_id, original.token_ids)
