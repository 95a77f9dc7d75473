"""Unknown tool arguments are refused, naming the closest valid one.

Pydantic ignores extra keys, so ``get_order_book(token_id=..., levels=5)`` used to return the default
depth and the model believed it got five levels. :func:`check_arguments` runs before a tool does
anything (so state is unchanged on error) and is generic: it reads the argument names from the tool's
input schema, so every tool gets it, including ones added later. The future JSON API can call it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInputError
from ..model.names import SYNONYMS, closest_argument

__all__ = ["SYNONYMS", "check_arguments", "closest_argument"]


def check_arguments(tool: str, arguments: Mapping[str, Any], input_schema: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidInputError` if ``arguments`` has a name ``input_schema`` does not define."""
    properties = input_schema.get("properties") or {}
    unknown = [name for name in arguments if name not in properties]
    if not unknown:
        return
    valid = list(properties)
    if not valid:
        raise InvalidInputError(
            f"{tool} takes no arguments; remove {', '.join(repr(u) for u in unknown)} and call it with {{}}."
        )
    unused = [v for v in valid if v not in arguments] or valid
    listed = f"Valid arguments: {', '.join(valid)}."
    if len(unknown) == 1:
        raise InvalidInputError(
            f"unknown argument {unknown[0]!r}; did you mean {closest_argument(unknown[0], unused)!r}? {listed}"
        )
    parts = [f"{name!r} (did you mean {closest_argument(name, unused)!r}?)" for name in unknown]
    raise InvalidInputError(f"unknown arguments {', '.join(parts)}. {listed}")
