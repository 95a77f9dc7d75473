"""Pydantic views of agents, their logs, scanner presets, system status and the activity feed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..paper.warmup import BookWarmup

__all__ = [
    "ActivityEntry",
    "ActivityPage",
    "AgentList",
    "AgentLogLine",
    "AgentLogs",
    "AgentView",
    "PresetList",
    "SystemStatus",
    "SystemSwitchResult",
]


class AgentView(BaseModel):
    agent_id: str
    kind: str = Field(description="price_alert | market_scanner | strategy")
    state: str = Field(description="running | stopped | error")
    state_reason: str
    session_id: str | None
    config: dict[str, Any]
    created_ms: int
    last_active_ms: int | None = Field(description="When it last processed an event (this process).")
    counters: dict[str, int] = Field(description="events processed, dropped (sink full), errors, log lines.")
    stats: dict[str, Any] = Field(description="Kind-specific statistics (alerts fired, ranking, orders...).")
    warmup: BookWarmup | None = Field(
        default=None, description="start_agent only: how long it waited for live books and which are ready."
    )


class AgentList(BaseModel):
    agents: list[AgentView]
    counts: dict[str, int] = Field(description="Agents per state.")
    kinds: dict[str, str] = Field(description="Available kinds and what they do.")


class AgentLogLine(BaseModel):
    id: int
    ts_ms: int
    level: str
    message: str


class AgentLogs(BaseModel):
    agent_id: str
    lines: list[AgentLogLine] = Field(description="Oldest first.")


class PresetList(BaseModel):
    presets: dict[str, dict[str, float]] = Field(description="name -> metric weights.")
    builtin: list[str] = Field(description="Built-in presets (read-only).")
    metrics: list[str]


class ActivityEntry(BaseModel):
    seq: int
    ts_ms: int
    kind: str = Field(description="e.g. session_created, order_placed, order_filled, risk_halt, agent_error")
    subject: str = Field(description="Session, agent or 'system'.")
    message: str
    data: dict[str, Any]


class ActivityPage(BaseModel):
    entries: list[ActivityEntry]
    next_after_seq: int = Field(description="Pass as after_seq to read what comes next.")
    latest_seq: int


class SystemStatus(BaseModel):
    switch: str = Field(description="running | stopped (the master switch)")
    pid: int = Field(description="Server process id.")
    uptime_s: float
    feed: dict[str, Any] = Field(description="Feed connections and statistics, from the feed engine.")
    sessions: dict[str, int] = Field(description="Paper sessions per state.")
    agents: dict[str, int] = Field(description="Agents per state.")
    subscriptions: dict[str, int] = Field(description="Router subscriptions, books held, sinks.")
    storage: dict[str, Any] = Field(
        description="quick_check + write probe of the SQLite database; size: file_bytes, wal_bytes, total_bytes, "
        "free_bytes (reused before the file grows); retention: policy and last_prune (rows deleted per table)."
    )
    activity_latest_seq: int
    remembered: dict[str, list[str]] = Field(description="What stop_system paused/stopped, restored by start_system.")


class SystemSwitchResult(BaseModel):
    switch: str
    sessions: list[str] = Field(description="Sessions paused (stop) or resumed (start).")
    agents: list[str] = Field(description="Agents stopped (stop) or restarted (start).")
    message: str
