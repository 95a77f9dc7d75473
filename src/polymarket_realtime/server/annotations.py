"""The tool-annotation profiles every toolset uses, named once.

MCP clients use these hints to group tools and decide what needs confirmation (Claude Code's plan
mode auto-allows ``read_only_hint`` tools). ``open_world_hint`` marks tools that reach the venue.
"""

from __future__ import annotations

from mcp.types import ToolAnnotations

__all__ = ["CHANGE", "CREATE", "IDEMPOTENT_ACTION", "READ_LOCAL", "READ_VENUE", "REMOVE"]

READ_LOCAL = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
"""Reads the server's own state (event logs, sessions, status)."""
READ_VENUE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
"""Reads from Polymarket (REST) or needs a live venue socket."""
CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
"""Creates something new that follows the venue (a subscription, session, agent, recording)."""
CHANGE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)
"""Changes or ends local state (pause, stop, cancel, paper orders)."""
IDEMPOTENT_ACTION = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
"""Local work that is safe to repeat (stop a recording, run a backtest)."""
REMOVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
"""Removes something; repeating it changes nothing more (unsubscribe)."""
