"""Compact JSON schemas for ``tools/list``: what a model needs to call a tool and read its result.

Every conversation pays for the whole tool list before the model does anything (issue 11 sets the
budget: all toolsets under 12,000 tokens, the default set under 8,000; ``benchmarks/tool_context.py``
measures it). Pydantic's schemas are written for validators, not for a model's context, so
:class:`~polymarket_realtime.server.app.PolymarketMCP` passes every listed tool through
:func:`compact_tool_list`, which applies these rules to all tools, including ones added later:

* Input schemas keep names, types, descriptions, required and non-empty defaults, and say
  ``additionalProperties: false`` (unknown arguments are refused, see :mod:`.strict_args`). Titles
  (``"Token Id"``), ``default: null`` / ``[]`` and ``anyOf`` lists of plain types (written ``type: [..]``) go.
* Output schemas describe what a model reads: the result's field names, each with its description.
  Types, ``required`` lists, defaults and nested models (``$defs``) go: the result shows them, and a
  tool's description names the nested fields a model needs (e.g. ``outcomes: [{name, token_id, price}]``).
* Tools returning the same result share one schema: the first listed tool carries it and the others
  say ``"Same fields as <tool>'s result"`` (e.g. the five paper-session tools). A result that repeats
  every field of an earlier one and adds a few (the subscription results) lists only the added fields
  and says ``"Every field of <tool>'s result, plus these."``.

These only change what is listed: arguments are still validated by each tool's pydantic model and
results are still produced from the full models. Every compacted output schema stays a loosening of
the full one, so a client that validates ``structuredContent`` against it still accepts every result.
"""

from __future__ import annotations

from typing import Any

from mcp.types import Tool

__all__ = ["compact_input_schema", "compact_output_schema", "compact_tool_list"]

_PLAIN_TYPE_KEYS = frozenset({"type"})


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return {**target, **extra}
    return schema


def _merge_plain_any_of(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: a}, {type: b}]`` -> ``type: [a, b]`` when every branch is just a type."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    plain = all(isinstance(b, dict) and set(b) <= _PLAIN_TYPE_KEYS | {"additionalProperties"} for b in branches)
    if not plain or any(b.get("additionalProperties", True) is not True for b in branches):
        return schema
    types: list[str] = []
    for branch in branches:
        t = branch.get("type")
        for name in t if isinstance(t, list) else [t]:
            if isinstance(name, str) and name not in types:
                types.append(name)
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {"type": types[0] if len(types) == 1 else types, **rest}


_MAX_INLINE_DEPTH = 6
"""Nesting inlined from ``$defs`` before a (recursive) model is left as ``{}``: any value."""


def _clean_input(schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if isinstance(schema, list):
        return [_clean_input(item, defs, depth) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        if depth >= _MAX_INLINE_DEPTH:
            return {}
        depth += 1
    schema = _merge_plain_any_of(_resolve(schema, defs))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "$defs") or (key == "default" and value in (None, [])):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _clean_input(sub, defs, depth) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            out[key] = _clean_input(value, defs, depth)
        else:
            out[key] = value
    return out


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The listed input schema: no titles or null defaults, ``$defs`` inlined, unknown arguments refused."""
    cleaned: dict[str, Any] = _clean_input(schema, schema.get("$defs", {}))
    cleaned.setdefault("type", "object")
    cleaned.setdefault("properties", {})
    cleaned["additionalProperties"] = False
    return cleaned


def _field(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, defs)
    return {"description": schema["description"]} if "description" in schema else {}


def compact_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The listed output schema: the result's field names, each with its description."""
    defs = schema.get("$defs", {})
    root = _resolve(schema, defs)
    out: dict[str, Any] = {"type": "object"}
    if "description" in root:
        out["description"] = root["description"]
    out["properties"] = {name: _field(sub, defs) for name, sub in root.get("properties", {}).items()}
    return out


_MIN_SHARED_FIELDS = 4
"""An extension is written as a reference only when it repeats at least this many fields (else it costs more)."""


def _extends(output: dict[str, Any], base: dict[str, Any]) -> dict[str, Any] | None:
    """The fields ``output`` adds to ``base`` when it repeats every field of ``base`` word for word, else None."""
    props, base_props = output.get("properties", {}), base.get("properties", {})
    if len(base_props) < _MIN_SHARED_FIELDS or len(props) <= len(base_props):
        return None
    if any(props.get(name) != field for name, field in base_props.items()):
        return None
    return {name: field for name, field in props.items() if name not in base_props}


def compact_tool_list(tools: list[Tool]) -> list[Tool]:
    """Compacted copies of ``tools`` (see the module docstring); the input list is left alone."""
    compacted: list[Tool] = []
    first_with: dict[str, str] = {}
    listed: list[tuple[str, dict[str, Any]]] = []
    for tool in tools:
        update: dict[str, Any] = {"input_schema": compact_input_schema(tool.input_schema)}
        if tool.output_schema is not None:
            output = compact_output_schema(tool.output_schema)
            key = repr(output)
            owner = first_with.setdefault(key, tool.name)
            if owner != tool.name:
                output = {"type": "object", "description": f"Same fields as {owner}'s result."}
            else:
                listed.append((tool.name, output))
                output = _as_extension(output, listed[:-1])
            update["output_schema"] = output
        compacted.append(tool.model_copy(update=update))
    return compacted


def _as_extension(output: dict[str, Any], earlier: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``output`` written as "<tool>'s result fields plus these" against the largest earlier result it extends."""
    best: tuple[str, dict[str, Any], dict[str, Any]] | None = None
    for name, base in earlier:
        extra = _extends(output, base)
        if extra is not None and (best is None or len(base["properties"]) > len(best[1]["properties"])):
            best = (name, base, extra)
    if best is None:
        return output
    name, _base, extra = best
    note = f"Every field of {name}'s result, plus these."
    description = output.get("description")
    return {
        "type": "object",
        "description": f"{description} {note}" if description else note,
        "properties": extra,
    }
