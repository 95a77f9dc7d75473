"""Unknown tool arguments: the error names the argument, the closest valid one, and every valid name."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymarket_realtime.app.strict_args import check_arguments, closest_argument
from polymarket_realtime.config import TOOLSETS, Settings
from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.server.app import create_server

BOOK = {"type": "object", "properties": {"token_id": {"type": "string"}, "depth": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("sent", "valid", "meant"),
    [
        ("levels", ["token_id", "depth"], "depth"),  # a synonym, not a spelling
        ("tokenids", ["token_ids", "market_ids", "callback_type"], "token_ids"),
        ("tokenIds", ["token_ids", "market_ids"], "token_ids"),
        ("token-ids", ["token_ids", "market_ids"], "token_ids"),
        ("qurey", ["query", "limit", "active_only"], "query"),
        ("cursor", ["subscription_id", "after_seq", "limit", "wait_s"], "after_seq"),
        ("timeout", ["subscription_id", "after_seq", "limit", "wait_s"], "wait_s"),
        ("market_id", ["market"], "market"),
        ("market_id", ["token_ids", "market_ids"], "market_ids"),
        ("zzz", ["market"], "market"),  # nothing is close: still the best candidate
    ],
)
def test_closest_argument(sent: str, valid: list[str], meant: str) -> None:
    assert closest_argument(sent, valid) == meant


def test_unknown_argument_error_names_it_the_closest_and_the_valid_names() -> None:
    with pytest.raises(InvalidInputError) as err:
        check_arguments("get_order_book", {"token_id": "1", "levels": 5}, BOOK)
    assert str(err.value) == "unknown argument 'levels'; did you mean 'depth'? Valid arguments: token_id, depth."


def test_several_unknown_arguments_are_all_named() -> None:
    with pytest.raises(InvalidInputError) as err:
        check_arguments("get_order_book", {"tokenid": "1", "levels": 5}, BOOK)
    text = str(err.value)
    assert "'tokenid' (did you mean 'token_id'?)" in text and "'levels' (did you mean 'depth'?)" in text
    assert text.endswith("Valid arguments: token_id, depth.")


def test_a_tool_without_arguments_says_so() -> None:
    with pytest.raises(InvalidInputError, match=r"get_realtime_status takes no arguments; remove 'verbose'"):
        check_arguments("get_realtime_status", {"verbose": True}, {"type": "object", "properties": {}})


def test_known_arguments_pass() -> None:
    check_arguments("get_order_book", {"token_id": "1", "depth": 5}, BOOK)
    check_arguments("get_order_book", {}, BOOK)  # missing required ones are pydantic's job


@pytest.mark.anyio
async def test_every_listed_input_schema_refuses_unknown_arguments(tmp_path: Path) -> None:
    server = create_server(Settings(data_dir=tmp_path, toolsets=frozenset(TOOLSETS)))
    tools = await server.list_tools()
    assert len(tools) >= 43
    for tool in tools:
        assert tool.input_schema.get("additionalProperties") is False, tool.name
        assert tool.input_schema.get("type") == "object", tool.name
