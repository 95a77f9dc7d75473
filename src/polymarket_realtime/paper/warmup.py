"""Waiting (bounded) for live books before trading, and saying why a book is not live yet.

A session created on a token nobody streamed a moment ago (or just released: its socket may be closing)
has no book for the first few hundred milliseconds. ``create_paper_session``, ``start_agent`` and
``place_paper_order`` therefore await the book store's readiness signal (never poll) for a bounded time
(``POLYMARKET_BOOK_WARMUP_S`` / ``POLYMARKET_ORDER_BOOK_WAIT_S``) and report what is still warming,
with the feed's own account of each such token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from ..clock import Clock
from ..model.book import BookReader

__all__ = ["BookWarmup", "FeedStateSource", "feed_state", "wait_live", "warm_up"]


class FeedStateSource(Protocol):
    """The feed's account of one token (:meth:`~polymarket_realtime.feed.contract.FeedBackend.asset_feed_state`)."""

    def asset_feed_state(self, asset_id: str) -> str: ...


class BookWarmup(BaseModel):
    waited_s: float = Field(description="How long this call waited for live books.")
    tokens: dict[str, Literal["ready", "warming"]] = Field(
        description="Per token: 'ready' (live book) or 'warming' (no live book yet; it keeps streaming in)."
    )
    feed: dict[str, str] = Field(
        default_factory=dict, description="For each warming token: what the feed is doing for it."
    )


def feed_state(feed: FeedStateSource | None, token: str) -> str:
    """The feed's one-sentence account of ``token`` (why its book may not be live)."""
    return "no live feed in this process" if feed is None else feed.asset_feed_state(token)


async def wait_live(books: BookReader, tokens: Sequence[str], timeout_s: float) -> list[str]:
    """Await the book store's readiness (bounded); returns the tokens still not live."""
    return await books.wait_live(tokens, timeout_s)


async def warm_up(
    books: BookReader, feed: FeedStateSource | None, tokens: Sequence[str], timeout_s: float, clock: Clock
) -> BookWarmup:
    """Wait up to ``timeout_s`` for the books of ``tokens``; report which are ready and which still warm up."""
    start = clock.monotonic()
    pending = set(await wait_live(books, tokens, timeout_s))
    return BookWarmup(
        waited_s=round(max(0.0, clock.monotonic() - start), 3),
        tokens={t: "warming" if t in pending else "ready" for t in tokens},
        feed={t: feed_state(feed, t) for t in tokens if t in pending},
    )
