"""Default toolsets and ``enable_toolsets``: more tools at run time, announced with tools/list_changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types
from mcp.client.subscriptions import ToolsListChanged

from polymarket_realtime.config import DEFAULT_TOOLSETS
from polymarket_realtime.server.extensions import default_extensions

from ._mcp_harness import running

pytestmark = pytest.mark.anyio

DEFAULT = frozenset(DEFAULT_TOOLSETS)


async def test_enable_toolsets_starts_services_and_announces_the_new_tools(tmp_path: Path) -> None:
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with running(
        tmp_path, mode="legacy", message_handler=on_message, extensions=default_extensions(), toolsets=DEFAULT
    ) as h:
        caps = h.client.server_capabilities
        assert caps.tools is not None and caps.tools.list_changed is True
        names = {t.name for t in (await h.client.list_tools()).tools}
        assert {"search_markets", "get_events", "create_paper_session", "get_system_status", "enable_toolsets"} <= names
        assert not {"start_agent", "list_recordings", "subscribe_user_orders"} & names
        tool = {t.name: t for t in (await h.client.list_tools()).tools}["enable_toolsets"]
        assert "agents (" in (tool.description or "") and "market (" not in (tool.description or "")

        result = await h.call("enable_toolsets", {"toolsets": ["agents", "recording"]})
        with anyio.fail_after(5):
            await changed.wait()
        assert {"start_agent", "list_agents", "start_recording", "list_recordings"} <= set(result["added_tools"])
        assert result["enabled"] == ["market", "realtime", "paper", "agents", "system", "recording"]
        tools = {t.name: t for t in (await h.client.list_tools()).tools}
        assert {"start_agent", "list_recordings"} <= set(tools) and "subscribe_user_orders" not in tools
        assert tools["enable_toolsets"].description.startswith("Add toolsets: user (")
        assert "agents (" not in tools["enable_toolsets"].description
        # The recording extension was not running before: its service started with the toolset.
        assert (await h.call("list_recordings"))["recordings"] == []
        assert "kinds" in await h.call("list_agents")

        again = await h.call("enable_toolsets", {"toolsets": ["agents"]})
        assert again["added_tools"] == []
        text = await h.call_error("enable_toolsets", {"toolsets": ["agent"]})
        assert "unknown toolsets ['agent']" in text and "recording" in text


async def test_modern_clients_hear_about_the_change_on_the_bus(tmp_path: Path) -> None:
    async with running(tmp_path, extensions=default_extensions(), toolsets=DEFAULT) as h:
        async with h.client.listen(tools_list_changed=True) as sub:
            await h.call("enable_toolsets", {"toolsets": ["all"]})
            with anyio.fail_after(5):
                event = await sub.__anext__()
        assert isinstance(event, ToolsListChanged)
        names = {t.name for t in (await h.client.list_tools()).tools}
        assert {"subscribe_user_orders", "start_agent", "run_backtest"} <= names
        assert "enable_toolsets" not in names  # nothing left to enable
