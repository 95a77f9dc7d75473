"""The real process: ``python -m polymarket_realtime serve`` over stdio, driven like Claude Desktop
(legacy handshake) through the SDK Client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters, types

from polymarket_realtime.simulator import Simulator, SimulatorConfig
from tests.integration._core_flow import every_core_tool

pytestmark = pytest.mark.anyio


def _params(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "polymarket_realtime", "serve", *args],
        env={"POLYMARKET_MCP_DATA_DIR": str(tmp_path / "data"), "POLYMARKET_MCP_LOG_LEVEL": "INFO", **(env or {})},
        cwd=str(tmp_path),  # no stray .env from the repository
    )


async def _call(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def test_serve_simulate_every_core_tool(tmp_path: Path) -> None:
    client = Client(_params(tmp_path, "--simulate"), mode="legacy", read_timeout_seconds=30)
    with anyio.fail_after(60):
        async with client:
            await every_core_tool(client)
    log_file = tmp_path / "data" / "logs" / "server.log"
    assert "serving MCP over stdio" in log_file.read_text(encoding="utf-8")


async def test_serve_against_external_simulator_pushes_and_recovers(tmp_path: Path) -> None:
    updates: list[str] = []
    logs: list[Any] = []
    got_update = anyio.Event()
    got_log = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            got_update.set()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)
        got_log.set()

    config = SimulatorConfig(seed=11, markets=3, rate_per_s=30.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        env = {**sim.env(), "POLYMARKET_RECONNECT_BASE_S": "0.05", "POLYMARKET_RECONNECT_MAX_S": "0.5"}
        client = Client(
            _params(tmp_path, env=env),
            mode="legacy",
            message_handler=on_message,
            logging_callback=on_log,
            read_timeout_seconds=30,
        )
        with anyio.fail_after(60):
            async with client:
                assert sim.observed.subscribed_assets() == set()  # initialize subscribed no token
                token = sim.model.active_markets()[0].token_ids[0]
                sub = await _call(client, "subscribe_market_prices", {"token_ids": [token]})
                uri = f"polymarket://subscriptions/{sub['subscription_id']}"
                await client.subscribe_resource(uri)
                cursor = 0
                while cursor < 5:
                    page = await _call(
                        client,
                        "get_events",
                        {"subscription_id": sub["subscription_id"], "after_seq": cursor, "wait_s": 5},
                    )
                    cursor = page["next_seq"]
                sim.faults.drop_all()
                saw_status = False
                after_status = 0
                while not (saw_status and after_status >= 3):
                    page = await _call(
                        client,
                        "get_events",
                        {"subscription_id": sub["subscription_id"], "after_seq": cursor, "wait_s": 5},
                    )
                    assert page["dropped"] == 0
                    if page["events"]:
                        assert page["events"][0]["seq"] == cursor + 1
                    for event in page["events"]:
                        if event["type"] == "feed_status":
                            saw_status = True
                        elif saw_status:
                            after_status += 1
                    cursor = page["next_seq"]
                status = await _call(client, "get_realtime_status")
                assert status["statistics"]["reconnect_count"] >= 1
                # Notifications travel independently of tool results: wait for them while connected.
                await got_update.wait()
                await got_log.wait()
    assert uri in updates
    assert any(isinstance(d, dict) and d.get("subscription_id") == sub["subscription_id"] for d in logs)
