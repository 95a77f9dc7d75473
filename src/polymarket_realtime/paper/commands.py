"""Per-session command stream: what a paper session was told to do and what happened, as it happens.

:class:`~.service.PaperService` calls its ``command_sink`` (when one is set, e.g. the dashboard's push
hub) synchronously right after each committed change, with ``(session_id, kind, data)``. Kinds:
``order_intent`` (an agent decided to place an order; sent before the order is checked),
``order_placed``, ``order_filled`` (one per fill), ``order_cancelled``, ``state_changed`` and
``risk_halt``. The sink must not block or raise into the service: it is called on the service's own
path, so it only enqueues (the hub encodes once and hands the text to bounded per-client queues).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .models import dec
from .session import Change, fill_view, order_view

__all__ = ["COMMAND_KINDS", "CommandSink", "commands_of", "emit"]

log = logging.getLogger(__name__)

COMMAND_KINDS = ("order_intent", "order_placed", "order_filled", "order_cancelled", "state_changed", "risk_halt")
CommandSink = Callable[[str, str, dict[str, Any]], None]


def commands_of(session_id: str, before_state: str, change: Change) -> list[tuple[str, dict[str, Any]]]:
    """The commands one committed :class:`Change` stands for, in the order they happened."""
    out: list[tuple[str, dict[str, Any]]] = [
        ("order_placed", order_view(order).model_dump(mode="json")) for order in change.new_orders
    ]
    out.extend(("order_filled", fill_view(fill).model_dump(mode="json")) for fill in change.fills)
    out.extend(
        ("order_cancelled", order_view(order).model_dump(mode="json"))
        for order in change.updated_orders
        if order.status == "cancelled"
    )
    if change.rec.state != before_state:
        halted = any(kind == "risk_halt" for kind, _m, _d in change.activity)
        out.append(
            (
                "risk_halt" if halted else "state_changed",
                {
                    "from": before_state,
                    "to": change.rec.state,
                    "reason": change.rec.state_reason,
                    "cash": dec(change.ledger.cash),
                },
            )
        )
    return out


def emit(sink: CommandSink | None, session_id: str, kind: str, data: dict[str, Any]) -> None:
    """Hand one command to ``sink``; a failing sink is logged, never raised into the service."""
    if sink is None:
        return
    try:
        sink(session_id, kind, data)
    except Exception:  # the stream is an observer: it must never break trading
        log.exception("command sink failed for session %s", session_id)
