"""RTDS topic generator: legacy ``comments`` frames only; price topics are gone.

Reference prices moved to PolyBolt (:mod:`.polybolt`) and the venue retired the RTDS price topics, so
this socket accepts a price subscription and sends nothing for it. The venue also retired the live
comments stream (the server polls Gamma ``GET /comments`` instead, :mod:`..app.comments`) and keeps
only ``activity`` on RTDS; these comment frames remain as generic RTDS traffic for the socket, recording
and parser tests. Message shape (docs/polymarket-protocol.md#rtds-frames):
``{"topic","type","timestamp": <ms number>,"payload":{...}}``; the server appends ``connection_id``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from .wire import OutFrame, dumps

__all__ = ["RtdsSource"]


class RtdsSource:
    """Generates RTDS frames at ``rate_per_s`` (virtual time), deterministic per seed."""

    def __init__(self, *, seed: int, rate_per_s: float, event_ids: Sequence[str], now_ms: Callable[[], int]) -> None:
        self._rng = random.Random(seed * 31 + 5)
        self.rate_per_s = rate_per_s
        self.event_ids = list(event_ids)
        self._now_ms = now_ms
        self._last: float | None = None
        self._carry = 0.0
        self._comment_no = 0

    def poll(self, sim_time_s: float) -> Sequence[OutFrame]:
        last = self._last if self._last is not None else sim_time_s
        self._last = sim_time_s
        if self.rate_per_s <= 0 or not self.event_ids:
            return []
        due = min(self._carry + (sim_time_s - last) * self.rate_per_s, 50.0)
        count = int(due)
        self._carry = due - count
        return [self.next_frame() for _ in range(count)]

    def next_frame(self) -> OutFrame:
        return self._comment()

    def _message(self, topic: str, kind: str, payload: dict[str, Any]) -> OutFrame:
        body = {"topic": topic, "type": kind, "timestamp": self._now_ms(), "payload": payload}
        return OutFrame(channel="rtds", text=dumps(body), topic=topic, event_type=kind)

    def comment_frame(self) -> OutFrame:
        """One comment or reaction frame now (tests use it instead of waiting for the 8% roll)."""
        return self._comment()

    def _comment(self) -> OutFrame:
        self._comment_no += 1
        event_id = self.event_ids[self._rng.randrange(len(self.event_ids))]
        now_iso = "2026-11-23T12:00:00.000000Z"
        user = f"0x{self._rng.getrandbits(160):040x}"
        if self._comment_no % 3 == 0:
            payload: dict[str, Any] = {
                "id": str(700_000 + self._comment_no),
                "commentID": str(600_000 + self._comment_no - 1),
                "reactionType": "HEART",
                "icon": "",
                "parentEntityType": "Event",
                "parentEntityID": int(event_id),
                "userAddress": user,
                "createdAt": now_iso,
            }
            return self._message("comments", "reaction_created", payload)
        payload = {
            "id": str(600_000 + self._comment_no),
            "body": f"Simulated comment #{self._comment_no}",
            "parentEntityType": "Event",
            "parentEntityID": int(event_id),
            "parentCommentID": None,
            "userAddress": user,
            "replyAddress": None,
            "createdAt": now_iso,
            "updatedAt": now_iso,
            "reactionCount": 0,
            "reportCount": 0,
            "profile": {
                "baseAddress": user,
                "displayUsernamePublic": True,
                "name": f"sim-user-{self._comment_no % 17}",
                "proxyWallet": user,
                "pseudonym": f"Simulated-Trader-{self._comment_no % 17}",
            },
        }
        return self._message("comments", "comment_created", payload)
