"""The server with its extensions loaded: lazy sockets, per-toolset registration, alerts pushed to clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types

from polymarket_realtime.server.ext_paper import PaperExtension
from polymarket_realtime.server.extensions import default_extensions

from ._mcp_harness import running

pytestmark = pytest.mark.anyio

PAPER_TOOLS = {"create_paper_session", "place_paper_order", "pause_all_sessions"}
AGENT_TOOLS = {"start_agent", "get_agent_logs", "list_agents"}
SYSTEM_TOOLS = {"get_system_status", "start_system", "stop_system", "get_activity"}


async def test_every_extension_started_opens_no_socket_until_a_subscription(tmp_path: Path) -> None:
    async with running(tmp_path, mode="legacy", extensions=default_extensions()) as h:
        names = {t.name for t in (await h.client.list_tools()).tools}
        assert PAPER_TOOLS | AGENT_TOOLS | SYSTEM_TOOLS | {"subscribe_user_orders"} <= names
        status = await h.call("get_system_status")
        assert status["storage"]["ok"] is True
        assert h.sim.observed.opened["/ws/market"] == 0
        assert h.sim.observed.opened["/"] == 0 and h.sim.observed.opened["/ws/user"] == 0


@pytest.mark.parametrize(
    ("toolsets", "present", "absent"),
    [
        (frozenset({"agents"}), AGENT_TOOLS, PAPER_TOOLS | SYSTEM_TOOLS),
        (frozenset({"system"}), SYSTEM_TOOLS, PAPER_TOOLS | AGENT_TOOLS),
        (frozenset({"paper", "agents"}), PAPER_TOOLS | AGENT_TOOLS, SYSTEM_TOOLS),
    ],
)
async def test_toolsets_served_by_one_extension_register_separately(
    tmp_path: Path, toolsets: frozenset[str], present: set[str], absent: set[str]
) -> None:
    async with running(tmp_path, extensions=[PaperExtension()], toolsets=toolsets) as h:
        names = {t.name for t in (await h.client.list_tools()).tools}
        assert present <= names
        assert not absent & names


async def test_fired_alert_is_pushed_as_a_log_notification(tmp_path: Path) -> None:
    alerts: list[dict[str, Any]] = []
    got = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        if isinstance(params.data, dict) and params.data.get("type") == "alert":
            alerts.append(params.data)
            got.set()

    async with running(tmp_path, mode="legacy", extensions=[PaperExtension()], logging_callback=on_log) as h:
        yes, _no = h.market(0).token_ids
        agent = await h.call(
            "start_agent", {"kind": "price_alert", "config": {"token_id": yes, "condition": "above", "price": 0.01}}
        )
        with anyio.fail_after(20):
            await got.wait()
    assert alerts[0]["agent_id"] == agent["agent_id"]
    assert alerts[0]["token_id"] == yes
    assert "price alert" in alerts[0]["message"]
