"""Shared helpers for the MCP tests: a simulator plus our server, driven through the SDK ``Client``.

``running(...)`` is an async context manager used *inside* test bodies (never as a fixture holding a
Client, which breaks teardown under pytest).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.types import CallToolResult

from polymarket_realtime.clock import SYSTEM_CLOCK
from polymarket_realtime.config import TOOLSETS, Settings
from polymarket_realtime.server.app import PolymarketMCP, create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig


@dataclass
class Harness:
    sim: Simulator
    server: PolymarketMCP
    client: Client
    settings: Settings

    async def call(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured content."""
        result = await self.client.call_tool(name, args or {})
        assert not result.is_error, f"{name} failed: {_text(result)}"
        assert result.structured_content is not None
        return dict(result.structured_content)

    async def call_error(self, name: str, args: dict[str, Any] | None = None) -> str:
        """Call a tool that must fail; return the error text."""
        result = await self.client.call_tool(name, args or {})
        assert result.is_error, f"{name} unexpectedly succeeded: {result.structured_content}"
        return _text(result)

    def market(self, index: int = 0) -> Any:
        return self.sim.model.active_markets()[index]

    async def events_until(
        self, subscription_id: str, predicate: Any, *, within_s: float = 10.0, after_seq: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Long-poll get_events until ``predicate(events_so_far)`` holds; return (events, next_seq)."""
        collected: list[dict[str, Any]] = []
        cursor = after_seq
        with anyio.fail_after(within_s):
            while not predicate(collected):
                page = await self.call(
                    "get_events", {"subscription_id": subscription_id, "after_seq": cursor, "wait_s": 2}
                )
                collected.extend(page["events"])
                cursor = page["next_seq"]
        return collected, cursor


def _text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def settings_for(sim: Simulator, data_dir: Path, **changes: Any) -> Settings:
    """Every toolset unless ``toolsets=`` says otherwise (the server's default is a smaller first-time set)."""
    base = Settings.from_env(sim.env(), env_file=Path(os.devnull))
    changes.setdefault("toolsets", frozenset(TOOLSETS))
    return base.replace(data_dir=data_dir, **changes)


@contextlib.asynccontextmanager
async def running(
    data_dir: Path,
    *,
    sim_config: SimulatorConfig | None = None,
    mode: str = "auto",
    message_handler: Any = None,
    logging_callback: Any = None,
    extensions: list[Any] | None = None,
    clock: Any = None,
    **settings_changes: Any,
) -> AsyncIterator[Harness]:
    config = sim_config or SimulatorConfig(seed=3, markets=4, rate_per_s=40.0, resolve_after_s=None)
    async with Simulator(config) as sim:
        settings = settings_for(sim, data_dir, **settings_changes)
        # Core surface only by default: extensions have their own tests (stdio tests run everything).
        exts = [] if extensions is None else extensions
        server = create_server(settings, extensions=exts, clock=SYSTEM_CLOCK if clock is None else clock)
        kwargs: dict[str, Any] = {"mode": mode, "read_timeout_seconds": 30.0}
        if message_handler is not None:
            kwargs["message_handler"] = message_handler
        if logging_callback is not None:
            kwargs["logging_callback"] = logging_callback
        async with Client(server, **kwargs) as client:
            yield Harness(sim=sim, server=server, client=client, settings=settings)
