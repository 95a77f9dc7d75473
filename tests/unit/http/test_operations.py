"""The JSON API operations take exactly the arguments (names, required, defaults) of the MCP tools they mirror."""

from __future__ import annotations

import pytest

from polymarket_realtime.config import TOOLSETS, Settings
from polymarket_realtime.http.operations import OPERATIONS
from polymarket_realtime.server.app import create_server
from polymarket_realtime.server.extensions import default_extensions

pytestmark = pytest.mark.anyio


async def test_every_operation_mirrors_its_tool_arguments() -> None:
    server = create_server(Settings(toolsets=frozenset(TOOLSETS)), extensions=default_extensions())
    tools = {tool.name: tool for tool in await server.list_tools()}
    assert set(OPERATIONS) <= set(tools)
    for name, operation in OPERATIONS.items():
        schema = tools[name].input_schema
        properties = schema.get("properties") or {}
        fields = operation.args.model_fields
        assert set(fields) == set(properties), name
        assert {n for n, f in fields.items() if f.is_required()} == set(schema.get("required") or []), name
        own = operation.args.model_json_schema()["properties"]
        for field_name in fields:
            if "default" in properties[field_name]:
                assert own[field_name].get("default") == properties[field_name]["default"], (name, field_name)
