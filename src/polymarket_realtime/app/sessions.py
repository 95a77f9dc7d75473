"""Paper-session actions that span services (the MCP tools and the control room call the same function)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..paper.models import SessionDetail
    from .root import Application

__all__ = ["stop_paper_session"]


async def stop_paper_session(app: Application, session_id: str) -> SessionDetail:
    """Stop a session for good, then the strategy agents that traded in it."""
    detail = await app.require_paper().stop(session_id)
    await app.require_agents().stop_for_session(session_id, f"its session {session_id} was stopped")
    return detail
