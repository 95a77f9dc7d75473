"""The user socket follows subscription changes (docs/polymarket-protocol.md#user-subscribe): more or fewer markets
go as ``{"operation": "subscribe"|"unsubscribe", "markets": [...]}`` frames on the open socket; widening to all
markets (``markets: []``) or narrowing back from all has no frame, so it reconnects with a new initial
frame. Checked against what the simulator received and the market set it applies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import SimAccount, SimulatorConfig
from polymarket_realtime.simulator.observe import ConnectionObservation
from polymarket_realtime.venues.polymarket.protocol import user_subscribe_frame, user_unsubscribe_frame

from ._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
FAST: dict[str, Any] = {"ping_interval_s": 0.2, "pong_timeout_s": 2.0, "reconnect_base_s": 0.05, "reconnect_max_s": 0.5}
USER = "/ws/user"


def _config() -> SimulatorConfig:
    return SimulatorConfig(
        seed=7,
        markets=3,
        rate_per_s=5.0,
        resolve_after_s=None,
        rtds_rate_per_s=0.0,
        account=SimAccount(lifecycle_every_s=None, step_delay_s=0.02),
    )


def _live(h: Harness) -> list[ConnectionObservation]:
    return [c for c in h.sim.observed.open_on(USER) if c.authenticated]


async def _one_live(h: Harness, markets: set[str], *, opened: int) -> ConnectionObservation:
    """Wait until exactly one authenticated user socket is open, it is the ``opened``-th, and watches ``markets``."""
    await h.sim.wait_until(
        lambda: h.sim.observed.opened[USER] == opened and len(_live(h)) == 1 and _live(h)[0].markets == markets
    )
    return _live(h)[0]


def _initial_markets(conn: ConnectionObservation) -> list[str]:
    first = json.loads(conn.texts[0])
    assert first["type"] == "user"
    markets: list[str] = first["markets"]
    return markets


async def test_dynamic_frames_then_reconnect_to_widen_and_narrow(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        a, b = h.market(0).condition_id, h.market(1).condition_id

        first = await h.call("subscribe_user_orders", {"market_ids": [a]})
        conn = await _one_live(h, {a}, opened=1)
        assert _initial_markets(conn) == [a]

        # More markets on the open socket: a subscribe frame, no new connection.
        second = await h.call("subscribe_user_trades", {"market_ids": [b, a]})
        await _one_live(h, {a, b}, opened=1)
        assert user_subscribe_frame([b]) in conn.texts  # only the market not watched yet

        # Fewer markets: an unsubscribe frame for the market nobody else wants.
        await h.call("unsubscribe_realtime", {"subscription_id": second["subscription_id"]})
        await _one_live(h, {a}, opened=1)
        assert user_unsubscribe_frame([b]) in conn.texts
        assert user_unsubscribe_frame([a]) not in conn.texts  # still wanted by the first subscription

        # Widening to every market has no operation frame: reconnect with markets [] (= all).
        everything = await h.call("subscribe_user_trades", {})
        wide = await _one_live(h, set(), opened=2)
        assert _initial_markets(wide) == []
        assert conn.closed_at is not None

        # Narrowing back from all markets: reconnect with the remaining market only.
        await h.call("unsubscribe_realtime", {"subscription_id": everything["subscription_id"]})
        narrow = await _one_live(h, {a}, opened=3)
        assert _initial_markets(narrow) == [a]
        assert not any('"operation"' in text for text in wide.texts)

        # The last subscription gone: the socket is closed (an empty list would mean "all markets").
        await h.call("unsubscribe_realtime", {"subscription_id": first["subscription_id"]})
        await h.sim.wait_until(lambda: not h.sim.observed.open_on(USER))
        assert h.sim.observed.opened[USER] == 3
        status = await h.call("get_realtime_status", {})
        assert status["connections"]["user"]["state"] == "idle"


async def test_v2_condition_id_reaches_the_user_channel_padded_to_64_hex(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], private_key=Secret(KEY), **FAST) as h:
        v2 = h.sim.model.markets[2]
        assert v2.version == "v2"
        sub = await h.call("subscribe_user_orders", {"market_ids": [v2.gamma_condition_id]})  # Gamma's 62-hex form
        assert sub["market_ids"] == [v2.condition_id]
        conn = await _one_live(h, {v2.condition_id}, opened=1)
        assert _initial_markets(conn) == [v2.condition_id]
        # The slug of the same market joins to the same canonical id: no second market on the socket.
        await h.call("subscribe_user_trades", {"market_ids": [v2.slug]})
        await _one_live(h, {v2.condition_id}, opened=1)
        assert not any('"operation"' in text for text in conn.texts)
