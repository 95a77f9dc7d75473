"""Compact tool schemas (issue 11): the budget holds, and every compacted schema stays truthful."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp.types import ListToolsResult, Tool
from pydantic import BaseModel, Field

from polymarket_realtime.config import DEFAULT_TOOLSETS, TOOLSETS, Settings
from polymarket_realtime.server.app import create_server
from polymarket_realtime.server.tool_schemas import compact_input_schema, compact_output_schema, compact_tool_list

pytestmark = pytest.mark.anyio

BUDGET_ALL_BYTES = 48_000
"""12,000 tokens at ~4 bytes per token (benchmarks/tool_context.py prints the figures)."""
BUDGET_DEFAULT_BYTES = 32_000
"""8,000 tokens."""


class Level(BaseModel):
    price: str
    size: str = Field(description="Shares.")


class Book(BaseModel):
    token_id: str = Field(description="The token.")
    bids: list[Level]
    best: Level | None = None
    mid: str | None = None
    extra: dict[str, Level] = Field(default_factory=dict)


def _walk(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        found.append(schema)
        for value in schema.values():
            found.extend(_walk(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_walk(value))
    return found


def _wire_bytes(tools: list[Tool]) -> int:
    payload = ListToolsResult(tools=tools).model_dump(by_alias=True, mode="json", exclude_none=True)
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


async def test_tool_lists_fit_the_budget(tmp_path: Path) -> None:
    every = await create_server(Settings(data_dir=tmp_path, toolsets=frozenset(TOOLSETS))).list_tools()
    default = await create_server(Settings(data_dir=tmp_path)).list_tools()
    assert Settings().toolsets == frozenset(DEFAULT_TOOLSETS)
    assert _wire_bytes(every) < BUDGET_ALL_BYTES
    assert _wire_bytes(default) < BUDGET_DEFAULT_BYTES
    assert len(every) > len(default)


def test_input_schema_keeps_what_a_caller_needs_and_drops_titles() -> None:
    def model_schema() -> dict[str, Any]:
        class Args(BaseModel):
            token_id: str = Field(description="Outcome token id.")
            depth: int = 10
            fee_bps: float | str | None = None
            ids: list[str] = Field(default_factory=list)

        return Args.model_json_schema()

    compact = compact_input_schema(model_schema())
    assert all("title" not in node for node in _walk(compact))
    assert compact["additionalProperties"] is False
    assert compact["required"] == ["token_id"]
    props = compact["properties"]
    assert props["token_id"] == {"description": "Outcome token id.", "type": "string"}
    assert props["depth"] == {"default": 10, "type": "integer"}
    assert props["fee_bps"] == {"type": ["number", "string", "null"]}
    assert props["ids"] == {"items": {"type": "string"}, "type": "array"}


def test_output_schema_lists_the_result_fields_and_accepts_real_results() -> None:
    full = Book.model_json_schema()
    compact = compact_output_schema(full)
    assert compact == {
        "type": "object",
        "properties": {"token_id": {"description": "The token."}, "bids": {}, "best": {}, "mid": {}, "extra": {}},
    }
    result = Book(
        token_id="1", bids=[Level(price="0.5", size="10")], best=Level(price="0.5", size="1"), extra={}
    ).model_dump(mode="json")
    jsonschema.validate(result, full)
    jsonschema.validate(result, compact)  # a loosening: whatever the full schema accepts, so does this


def test_tools_with_the_same_result_share_one_schema() -> None:
    schema = Book.model_json_schema()
    args = {"type": "object", "properties": {}}
    tools = [
        Tool(name="get_book", input_schema=args, output_schema=schema),
        Tool(name="refresh_book", input_schema=args, output_schema=schema),
        Tool(name="other", input_schema=args, output_schema=Level.model_json_schema()),
    ]
    listed = {t.name: t for t in compact_tool_list(tools)}
    assert listed["get_book"].output_schema == compact_output_schema(schema)
    shared = {"type": "object", "description": "Same fields as get_book's result."}
    assert listed["refresh_book"].output_schema == shared
    assert "properties" in (listed["other"].output_schema or {})
    assert tools[1].output_schema == schema  # the registered tool is left alone


class BookWithDepth(Book):
    depth: int = Field(description="Levels per side.")


def test_a_result_extending_an_earlier_one_lists_only_its_added_fields() -> None:
    args = {"type": "object", "properties": {}}
    tools = [
        Tool(name="get_book", input_schema=args, output_schema=Book.model_json_schema()),
        Tool(name="deep_book", input_schema=args, output_schema=BookWithDepth.model_json_schema()),
        Tool(name="level", input_schema=args, output_schema=Level.model_json_schema()),
    ]
    listed = {t.name: t for t in compact_tool_list(tools)}
    deep = listed["deep_book"].output_schema or {}
    assert deep["properties"] == {"depth": {"description": "Levels per side."}}
    assert "Every field of get_book's result, plus these." in deep["description"]
    # A result that extends no earlier one keeps all its fields.
    assert set((listed["level"].output_schema or {})["properties"]) == {"price", "size"}
    result = {"token_id": "1", "bids": [], "best": None, "mid": None, "extra": {}, "depth": 3}
    jsonschema.validate(result, deep)  # still a loosening of the full schema


async def test_every_listed_schema_is_valid_json_schema(tmp_path: Path) -> None:
    for tool in await create_server(Settings(data_dir=tmp_path, toolsets=frozenset(TOOLSETS))).list_tools():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        if tool.output_schema is not None:
            jsonschema.Draft202012Validator.check_schema(tool.output_schema)
            assert tool.output_schema["type"] == "object", tool.name
        assert all("title" not in node or node is tool.input_schema for node in _walk(tool.input_schema)), tool.name


class Node(BaseModel):
    name: str
    children: list[Node] = Field(default_factory=list)


def test_recursive_input_models_are_inlined_to_a_bounded_depth() -> None:
    class Args(BaseModel):
        tree: Node

    compact = compact_input_schema(Args.model_json_schema())
    depth, node = 0, compact["properties"]["tree"]
    while node:
        assert node["properties"]["name"] == {"type": "string"}
        node = node["properties"]["children"]["items"]
        depth += 1
    assert depth == 6
    assert "$ref" not in json.dumps(compact)
