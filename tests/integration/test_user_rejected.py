"""Credentials the user socket keeps rejecting (e.g. website Builder keys in the POLYMARKET_API_* trio):
the venue just closes the socket. After the single refresh (impossible here: no private key, so the
provider itself raises) every failure is reported as a user-channel ``feed_status`` with the advice, in
``get_realtime_status`` and to later subscribers, while the socket keeps retrying with backoff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.secrets import Secret
from polymarket_realtime.server.ext_user import EXTENSION
from polymarket_realtime.simulator import SimAccount, SimulatorConfig

from ._mcp_harness import running

pytestmark = pytest.mark.anyio

ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BUILDER_TRIO: dict[str, Any] = {
    "api_key": Secret("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
    "api_secret": Secret("YnVpbGRlci1zZWNyZXQtYnVpbGRlci1zZWNyZXQtYnU="),
    "passphrase": Secret("builder-passphrase-0123456789abcdef"),
    "address": ADDRESS,
}
FAST: dict[str, Any] = {"ping_interval_s": 0.2, "pong_timeout_s": 2.0, "reconnect_base_s": 0.05, "reconnect_max_s": 0.2}
ADVICE = "POLYGON_PRIVATE_KEY"


def _config() -> SimulatorConfig:
    return SimulatorConfig(
        seed=13,
        markets=2,
        rate_per_s=5.0,
        resolve_after_s=None,
        rtds_rate_per_s=0.0,
        account=SimAccount(lifecycle_every_s=None),
    )


def _user_statuses(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["detail"] for e in events if e["type"] == "feed_status" and e["data"]["channel"] == "user"]


async def test_rejected_trio_reported_with_advice_and_retried(tmp_path: Path) -> None:
    async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], **BUILDER_TRIO, **FAST) as h:
        wide = await h.call("subscribe_user_trades", {})
        market = h.market(0).condition_id
        narrow = await h.call("subscribe_user_orders", {"market_ids": [market]})
        assert narrow["market_ids"] == [market] and narrow["credentials"] == "env"
        assert narrow["credentials_file"] is None  # nothing was derived or saved

        def advised(details: list[str]) -> bool:
            # Both failure modes: the provider could not refresh (env trio, no key), and the socket rejected
            # the credentials again after that one refresh.
            return any("could not get API credentials" in d for d in details) and any(
                "again after refreshing" in d and ADVICE in d for d in details
            )

        for sub in (wide, narrow):  # also the market-filtered subscription: feed_status names no market
            events, _ = await h.events_until(sub["subscription_id"], lambda ev: advised(_user_statuses(ev)))
            details = _user_statuses(events)
            assert all(
                e["data"]["state"] == "disconnected"
                for e in events
                if e["type"] == "feed_status" and ADVICE in e["data"]["detail"]
            )
            assert any("Builder keys" in d for d in details)

        # It keeps retrying (the venue may accept later), each attempt rejected again.
        opened = h.sim.observed.opened["/ws/user"]
        await h.sim.wait_until(lambda: h.sim.observed.opened["/ws/user"] >= opened + 2)
        assert not h.sim.ws.user_connections()

        status = await h.call("get_realtime_status", {})
        user = status["connections"]["user"]
        assert ADVICE in (user["last_error"] or "") and user["reconnects"] >= 2

        later = await h.call("subscribe_user_trades", {})
        assert later["status"] == "rejected" and ADVICE in later["detail"] and "Builder keys" in later["detail"]
        report = await h.call("diagnose_connection", {})
        assert report["user_channel"] is not None and ADVICE in report["user_channel"]
        assert report["credentials"]["source"] == "env" and report["credentials"]["credentials_file"] is None
        creds = next(c for c in report["checks"] if c["name"] == "API credentials")
        assert creds["status"] == "fail" and "POLYMARKET_API_*" in creds["fix"]


async def test_first_subscription_reports_the_refusal(tmp_path: Path) -> None:
    """The very first answer waits for the socket's first attempt: refused credentials show in it (issue 11)."""
    async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], **BUILDER_TRIO, **FAST) as h:
        first = await h.call("subscribe_user_orders", {})
        assert first["status"] == "rejected", first
        assert "rejected the credentials" in first["detail"]
        attempts = h.sim.observed.on("/ws/user")
        assert attempts and not any(c.authenticated for c in attempts)


async def test_accepted_credentials_report_active(tmp_path: Path) -> None:
    key = Secret("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    async with running(tmp_path, sim_config=_config(), extensions=[EXTENSION], private_key=key, **FAST) as h:
        first = await h.call("subscribe_user_trades", {})
        await h.sim.wait_until(lambda: bool(h.sim.ws.user_connections()))
        second = await h.call("subscribe_user_orders", {})
        for sub in (first, second):
            assert sub["status"] == "active" and sub["detail"] == ""
        assert (await h.call("diagnose_connection", {}))["user_channel"] is None
