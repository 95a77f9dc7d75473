"""PolyBolt reconnect policy and loss detection, pure (no I/O): what to do after a close, per code.

WEBSOCKET_INTEGRATION.md ("PolyBolt reference prices") gives our handling and docs/polymarket-protocol.md
(section 6.11, "Close codes and the reconnect rule per code") the venue's table; in short:

========  =====================================  ====================================================
close     meaning                                 we do
========  =====================================  ====================================================
4001      a presented credential was refused      refresh the credentials once and reconnect; refused
                                                  again: stop and say so (no blind retry)
4002      slow consumer or pong timeout           full-jitter exponential backoff
4003      server draining                         one reconnect after ``uniform(0, 10)`` s
4008      policy violation (our bug)              stop; log it as a bug of ours (no blind reconnect)
1006 ...  abnormal drop, network error            full-jitter exponential backoff
429/503   upgrade refused                         ``Retry-After`` + full jitter
========  =====================================  ====================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from .backoff import Backoff

__all__ = ["DRAIN_MAX_S", "Loss", "Plan", "SeqTracker", "plan_reconnect"]

DRAIN_MAX_S = 10.0
"""A draining server asks for one reconnect after a uniformly random delay up to this."""

CLOSE_AUTH_FAILED = 4001
CLOSE_SLOW_CONSUMER = 4002
CLOSE_DRAINING = 4003
CLOSE_POLICY = 4008


@dataclass(frozen=True, slots=True)
class Plan:
    action: Literal["reconnect", "refresh_and_reconnect", "stop_auth", "stop_bug"]
    delay_s: float = 0.0
    reason: str = ""


def plan_reconnect(
    close_code: int | None,
    *,
    backoff: Backoff,
    rng: random.Random,
    refreshed_in_streak: bool,
    can_refresh: bool,
    retry_after_s: float | None = None,
    drain_max_s: float = DRAIN_MAX_S,
) -> Plan:
    """The next step after a connection ended with ``close_code`` (None: no socket, or no close frame).

    ``retry_after_s`` is set when the upgrade itself was refused with 429/503.
    """
    if retry_after_s is not None:
        delay = retry_after_s + backoff.next_delay()
        return Plan("reconnect", delay, f"upgrade refused; Retry-After {retry_after_s:g}s plus jitter")
    if close_code == CLOSE_POLICY:
        return Plan(
            "stop_bug",
            reason=(
                "PolyBolt closed the socket with 4008 (policy violation: a limit or a malformed frame). This is a "
                "bug in polymarket-realtime-mcp, please report it; not reconnecting automatically"
            ),
        )
    if close_code == CLOSE_AUTH_FAILED:
        if can_refresh and not refreshed_in_streak:
            return Plan(
                "refresh_and_reconnect",
                backoff.next_delay(),
                "PolyBolt refused the credentials (close 4001); refreshing them once before reconnecting",
            )
        return Plan("stop_auth", reason="PolyBolt refused the API credentials (close 4001)")
    if close_code == CLOSE_DRAINING:
        return Plan("reconnect", rng.uniform(0.0, drain_max_s), "PolyBolt is draining (close 4003); one reconnect")
    code = "no close frame (1006)" if close_code is None else f"close {close_code}"
    return Plan("reconnect", backoff.next_delay(), f"disconnected ({code}); backing off")


@dataclass(frozen=True, slots=True)
class Loss:
    gap: int
    """Frames missing between the previous ``seq`` and this one (0 if none; -1 if ``seq`` went back)."""
    dropped: int
    """Frames the venue says it dropped before this one."""
    detail: str


class SeqTracker:
    """Dense ``seq`` per (connection, channel): reports lost frames. Reset on every reconnect."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def reset(self) -> None:
        self._last.clear()

    def observe(self, channel: str, seq: int, dropped: int) -> Loss | None:
        """The loss this frame reveals (a gap before it, or ``dropped``), or None."""
        last = self._last.get(channel)
        self._last[channel] = seq
        gap = 0
        problems = []
        if last is not None and seq != last + 1:
            gap = seq - last - 1 if seq > last else -1
            problems.append(
                f"seq gap {last} -> {seq} ({gap} frame(s) lost)" if gap > 0 else f"seq went back {last} -> {seq}"
            )
        if dropped > 0:
            problems.append(f"venue dropped {dropped} frame(s) (slow consumer)")
        return Loss(gap, dropped, f"{channel}: " + "; ".join(problems)) if problems else None
