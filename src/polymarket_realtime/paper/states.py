"""The paper-session state machine: explicit states and allowed transitions.

::

    running --pause--> paused --resume--> running
    running|paused --halt (risk)--> halted --resume--> running   (only once the breach has cleared;
                                                                  a daily-loss breach clears at the
                                                                  next UTC day)
    running|paused|halted --stop--> stopped                      (terminal; history read-only)

Order rules per state: ``running`` accepts everything and resting orders fill; ``paused`` and
``halted`` accept only reducing orders (SELL) and resting orders do not fill; ``stopped`` accepts
nothing (its resting orders were cancelled when it stopped). ``halt`` is the risk engine's action,
never offered to users (:func:`user_actions`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ..errors import StateError

__all__ = ["Action", "SessionState", "accepts_order", "allowed_actions", "fills_resting", "transition", "user_actions"]


class SessionState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"
    STOPPED = "stopped"


class Action(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    HALT = "halt"
    STOP = "stop"


_S = SessionState
_TRANSITIONS: Final[dict[tuple[SessionState, Action], SessionState]] = {
    (_S.RUNNING, Action.PAUSE): _S.PAUSED,
    (_S.PAUSED, Action.RESUME): _S.RUNNING,
    (_S.HALTED, Action.RESUME): _S.RUNNING,
    (_S.RUNNING, Action.HALT): _S.HALTED,
    (_S.PAUSED, Action.HALT): _S.HALTED,
    (_S.RUNNING, Action.STOP): _S.STOPPED,
    (_S.PAUSED, Action.STOP): _S.STOPPED,
    (_S.HALTED, Action.STOP): _S.STOPPED,
}


_SYSTEM_ONLY: Final = frozenset({Action.HALT})
"""Transitions only the risk engine makes; never offered to a user."""


def allowed_actions(state: SessionState) -> list[str]:
    """Every transition out of ``state``, including the risk engine's ``halt``."""
    return [action.value for (s, action) in _TRANSITIONS if s == state]


def user_actions(state: SessionState) -> list[str]:
    """The transitions a user can ask for in ``state`` (pause, resume, stop): what errors and views list."""
    return [action.value for (s, action) in _TRANSITIONS if s == state and action not in _SYSTEM_ONLY]


def transition(state: SessionState, action: Action, *, session_id: str = "") -> SessionState:
    """The next state, or :class:`StateError` naming the current state and what is allowed."""
    nxt = _TRANSITIONS.get((state, action))
    if nxt is None:
        allowed = user_actions(state)
        hint = f"allowed now: {', '.join(allowed)}" if allowed else "it is final (history stays readable)"
        who = f"session {session_id} " if session_id else ""
        raise StateError(f"Cannot {action.value} {who}while it is {state.value}; {hint}.", state=state.value)
    return nxt


def accepts_order(state: SessionState, *, increases_exposure: bool) -> bool:
    if state is SessionState.RUNNING:
        return True
    if state in (SessionState.PAUSED, SessionState.HALTED):
        return not increases_exposure
    return False


def fills_resting(state: SessionState) -> bool:
    return state is SessionState.RUNNING
