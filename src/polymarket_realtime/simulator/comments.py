"""Gamma comments, as ``GET /comments`` serves them (the live comments stream is retired).

Comments are kept per parent entity (``("Event", "90000")``) with increasing numeric ids; tests and the
demo add them with :meth:`CommentBoard.add`. Fields follow Gamma's comment objects: ``id`` (a numeric
string), ``body``, ``parentEntityType``, ``parentEntityID`` (a number), ``parentCommentID``,
``userAddress``, ``createdAt``/``updatedAt`` (ISO-8601), ``reactionCount``, ``reportCount`` and ``profile``.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["CommentBoard"]


class CommentBoard:
    def __init__(self) -> None:
        self._by_parent: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._next_id = 1_000

    def add(
        self, event_id: str, body: str, *, user: str = "0x" + "ab" * 20, entity_type: str = "Event"
    ) -> dict[str, Any]:
        """Post one comment on an event (or another entity type); returns the stored object."""
        self._next_id += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{self._next_id % 1000:03d}Z"
        comment = {
            "id": str(self._next_id),
            "body": body,
            "parentEntityType": entity_type,
            "parentEntityID": int(event_id),
            "parentCommentID": None,
            "userAddress": user,
            "replyAddress": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "reactionCount": 0,
            "reportCount": 0,
            "profile": {"name": f"trader-{user[-4:]}", "pseudonym": f"Sim Trader {user[-4:]}", "proxyWallet": user},
        }
        self._by_parent.setdefault((entity_type.lower(), str(event_id)), []).append(comment)
        return comment

    def query(
        self, entity_type: str, entity_id: str, *, limit: int, offset: int = 0, ascending: bool = False
    ) -> list[dict[str, Any]]:
        """One page, oldest or newest first by id (ids grow with time)."""
        items = list(self._by_parent.get((entity_type.lower(), entity_id), ()))
        if not ascending:
            items.reverse()
        return items[offset : offset + limit]
