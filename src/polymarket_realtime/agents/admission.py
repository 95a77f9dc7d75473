"""Admission checks for a new agent: its paper session and its tokens must exist and fit its kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, NotFoundError, StateError
from ..model.book import BookReader
from .base import Agent

if TYPE_CHECKING:
    from ..paper.service import MarketLookup, PaperService

__all__ = ["check_session", "check_tokens"]


def check_session(
    paper: PaperService | None, cls: type[Agent], kind: str, parsed: dict[str, Any], session_id: str | None
) -> None:
    """A trading kind needs a live session that trades its token; any other kind only a known one."""
    if cls.needs_session:
        if session_id is None:
            raise InvalidInputError(f"A {kind} agent trades a paper session: pass session_id.")
        if paper is None:
            raise StateError("paper trading is not enabled in this server", state="no_paper")
        state = paper.state_of(session_id)  # NotFoundError for an unknown id
        if state == "stopped":
            raise StateError(f"Session {session_id} is stopped; create a new one.", state=state)
        token = parsed.get("token_id")
        if token is not None and token not in paper.tokens_of(session_id):
            raise InvalidInputError(
                f"Token {token} is not traded by session {session_id}; its tokens: "
                f"{', '.join(paper.tokens_of(session_id))}."
            )
    elif session_id is not None and paper is not None:
        paper.state_of(session_id)


async def check_tokens(books: BookReader, markets: MarketLookup | None, tokens: list[str]) -> None:
    """Each token must be known, as for paper sessions: a live book in the store or a market on Gamma."""
    for token in tokens:
        if books.get(token) is not None:
            continue
        if markets is not None:
            try:
                await markets.get_market(token)
            except NotFoundError:
                raise NotFoundError(
                    f"Unknown token id {token!r}: no market has it. Use search_markets or get_market to find one."
                ) from None
            continue
        raise NotFoundError(
            f"Unknown token id {token!r}: there is no live book for it and no market lookup to check it; "
            "subscribe it first (or use get_market to find a valid one)."
        )
