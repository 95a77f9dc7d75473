"""Agent records as stored: agents, their log lines and alerts.

:mod:`polymarket_realtime.agents` works with them and :mod:`polymarket_realtime.storage.agents` reads and writes
them; they sit here, below both, because storage is the lower layer of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["AgentRecord", "AlertRecord", "LogRecord"]


@dataclass(slots=True)
class AgentRecord:
    id: str
    kind: str
    config: dict[str, Any]
    session_id: str | None
    state: str
    state_reason: str
    memory: dict[str, Any] = field(default_factory=dict)
    created_ns: int = 0
    updated_ns: int = 0


@dataclass(slots=True)
class LogRecord:
    id: int
    agent_id: str
    ts_ns: int
    level: str
    message: str


@dataclass(slots=True)
class AlertRecord:
    id: int
    agent_id: str
    ts_ns: int
    token_id: str
    price: Decimal
    message: str
