"""Tool-list context cost: the size of ``tools/list`` per toolset, for the default set and for all toolsets.

Run: ``.venv/bin/python benchmarks/tool_context.py [--top N]``. Every conversation pays for the whole
tool list before the model has done anything, so this is the budget issue 11 sets: all toolsets under
12,000 tokens, the default set under 8,000.

How it measures: ``create_server(settings)`` for each selection (no lifespan, so nothing touches the
network), then the ``tools/list`` result serialised the way the stdio transport writes it (pydantic
``by_alias``, ``None`` fields left out, compact JSON, UTF-8). Tokens are approximated as bytes / 4: no
tokenizer is installed here, and JSON schemas tokenize at roughly 3.5-4.5 bytes per token with the
common BPE vocabularies, so read the token column as +-15%. Also printed: the part a client that
forwards only name, description and input schema to the model pays, the server instructions sent at
``initialize``, and ``enable_toolsets`` at run time (against the built-in simulator, in process, legacy
handshake): the call's round trip, when ``notifications/tools/list_changed`` arrives and the re-listed size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, types
from mcp.types import ListToolsResult

from polymarket_realtime.config import TOOLSETS, Settings
from polymarket_realtime.server.app import INSTRUCTIONS, create_server
from polymarket_realtime.simulator import Simulator, SimulatorConfig

BYTES_PER_TOKEN = 4
BUDGET_ALL = 12_000
BUDGET_DEFAULT = 8_000


def tokens(size: int) -> int:
    return round(size / BYTES_PER_TOKEN)


async def tool_list(settings: Settings) -> list[dict[str, Any]]:
    server = create_server(settings)
    result = ListToolsResult(tools=await server.list_tools())
    tools: list[dict[str, Any]] = result.model_dump(by_alias=True, mode="json", exclude_none=True)["tools"]
    return tools


def wire_bytes(payload: Any) -> int:
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


async def main(top: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=Path(tmp))
        default = base.toolsets
        rows: list[tuple[str, int, int]] = []
        for toolset in TOOLSETS:
            listed = await tool_list(base.replace(toolsets=frozenset({toolset})))
            tools = [t for t in listed if t["name"] != "enable_toolsets"]  # counted once, below
            rows.append((toolset, len(tools), wire_bytes({"tools": tools})))
        default_tools = await tool_list(base)
        all_tools = await tool_list(base.replace(toolsets=frozenset(TOOLSETS)))

    print(f"tools/list size (compact JSON as sent over stdio; tokens ~ bytes/{BYTES_PER_TOKEN})")
    print(f"  {'toolset (without enable_toolsets)':<34} {'tools':>5} {'bytes':>8} {'~tokens':>8}")
    for name, count, size in rows:
        print(f"  {name:<34} {count:>5} {size:>8,} {tokens(size):>8,}")
    default_size = wire_bytes({"tools": default_tools})
    all_size = wire_bytes({"tools": all_tools})
    label = "default (with enable_toolsets)"
    print(f"  {label:<34} {len(default_tools):>5} {default_size:>8,} {tokens(default_size):>8,}")
    print(f"  {'all':<34} {len(all_tools):>5} {all_size:>8,} {tokens(all_size):>8,}")
    print("default toolsets: " + ",".join(t for t in TOOLSETS if t in default))
    default_ok = "met" if tokens(default_size) < BUDGET_DEFAULT else "NOT met"
    all_ok = "met" if tokens(all_size) < BUDGET_ALL else "NOT met"
    print(f"budget: default < {BUDGET_DEFAULT:,} tokens: {default_ok}; all < {BUDGET_ALL:,} tokens: {all_ok}")

    parts = {"description": 0, "inputSchema": 0, "outputSchema": 0, "other": 0}
    for tool in all_tools:
        for key, value in tool.items():
            parts[key if key in parts else "other"] += wire_bytes(value)
    print("where the bytes go (all toolsets): " + ", ".join(f"{k} {v:,}" for k, v in parts.items()))

    model_view = [{k: t[k] for k in ("name", "description", "inputSchema") if k in t} for t in all_tools]
    default_view = [{k: t[k] for k in ("name", "description", "inputSchema") if k in t} for t in default_tools]
    print(
        "name + description + inputSchema only (clients that drop outputSchema, titles, annotations): "
        f"all {wire_bytes(model_view):,} B ~{tokens(wire_bytes(model_view)):,} tokens, "
        f"default {wire_bytes(default_view):,} B ~{tokens(wire_bytes(default_view)):,} tokens"
    )
    enable = next((t for t in default_tools if t["name"] == "enable_toolsets"), None)
    if enable is not None:
        size = wire_bytes(enable)
        print(f"enable_toolsets itself (in the default list): {size:,} B ~{tokens(size)} tokens")
    size = len(INSTRUCTIONS.encode())
    print(f"server instructions (initialize, once per conversation): {size:,} B ~{tokens(size):,} tokens")

    largest = sorted(all_tools, key=wire_bytes, reverse=True)[:top]
    print(f"largest {len(largest)} tools:")
    for tool in largest:
        out = wire_bytes(tool.get("outputSchema", {}))
        described = len(tool.get("description", ""))
        print(
            f"  {tool['name']:<32} {wire_bytes(tool):>6,} B "
            f"(input {wire_bytes(tool['inputSchema']):,}, output {out:,}, description {described:,})"
        )


async def enable_at_run_time() -> None:
    """Default toolsets, then ``enable_toolsets(["all"])`` through the SDK Client (legacy handshake)."""
    changed = anyio.Event()
    changed_at = 0.0

    async def on_message(message: Any) -> None:
        nonlocal changed_at
        if isinstance(message, types.ToolListChangedNotification):
            changed_at = time.perf_counter()
            changed.set()

    config = SimulatorConfig(seed=3, markets=4, rate_per_s=20.0, resolve_after_s=None)
    with tempfile.TemporaryDirectory() as tmp:
        async with Simulator(config) as sim:
            settings = Settings.from_env(sim.env(), env_file=Path(os.devnull)).replace(data_dir=Path(tmp))
            server = create_server(settings)
            async with Client(server, mode="legacy", message_handler=on_message) as client:
                before = (await client.list_tools()).tools
                started = time.perf_counter()
                result = await client.call_tool("enable_toolsets", {"toolsets": ["all"]})
                answered = time.perf_counter()
                with anyio.fail_after(5):
                    await changed.wait()
                after = (await client.list_tools()).tools
    assert not result.is_error, result.content

    def listed(tools: list[types.Tool]) -> int:
        return wire_bytes(ListToolsResult(tools=tools).model_dump(by_alias=True, mode="json", exclude_none=True))

    added = len((result.structured_content or {}).get("added_tools", []))
    print(
        f"enable_toolsets(['all']) at run time: {added} tools added, answered in {(answered - started) * 1000:.0f} ms "
        f"(starts the user and recording services), list_changed {(changed_at - started) * 1000:.0f} ms after the "
        f"call; list {listed(before):,} B -> {listed(after):,} B (~{tokens(listed(after)):,} tokens)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many of the largest tools to list")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the simulator and server log their start-up on stderr
    asyncio.run(main(args.top))
    asyncio.run(enable_at_run_time())
