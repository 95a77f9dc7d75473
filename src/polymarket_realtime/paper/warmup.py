"""Waiting (bounded) for live books before trading, and saying why a book is not live yet.

A session created on a token nobody streamed a moment ago (or just released: its socket may be closing)
has no book for the first few hundred milliseconds. ``create_paper_session``, ``start_agent`` and
``place_paper_order`` therefore await the book store's readiness signal (never poll) for a bounded time
(``POLYMARKET_BOOK_WARMUP_S`` / ``POLYMARKET_ORDER_BOOK_WAIT_S``) and report what is still warming,
with the feed's own account of each such token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..clock import Clock

__all__ = ["BookWarmup", "feed_state", "wait_live", "warm_up"]


class BookWarmup(BaseModel):
    waited_s: float = Field(description="How long this call waited for live books.")
    tokens: dict[str, Literal["ready", "warming"]] = Field(
        description="Per token: 'ready' (live book) or 'warming' (no live book yet; it keeps streaming in)."
    )
    feed: dict[str, str] = Field(
        default_factory=dict, description="For each warming token: what the feed is doing for it."
    )


def feed_state(feed: object, books: object, token: str) -> str:
    """The feed's one-sentence account of ``token`` (why its book may not be live)."""
    describe: Callable[[str], str] | None = getattr(feed, "asset_feed_state", None)
    if describe is not None:
        return describe(token)
    get = getattr(books, "get", None)
    book = get(token) if get is not None else None
    if feed is None:
        return "no live feed in this process"
    if book is None:
        return "subscribed, no book received yet"
    return f"book stale: {getattr(book, 'stale_reason', '') or 'feed disconnected or silent'}"


async def wait_live(books: object, tokens: Sequence[str], timeout_s: float) -> list[str]:
    """Await the book store's readiness (bounded); returns the tokens still not live."""
    waiter: Callable[[Sequence[str], float], Awaitable[list[str]]] | None = getattr(books, "wait_live", None)
    if waiter is not None:
        return await waiter(tokens, timeout_s)
    get: Callable[[str], Any] = getattr(books, "get")  # noqa: B009  # any BookSource has get()
    return [t for t in tokens if (b := get(t)) is None or b.stale]


async def warm_up(books: object, feed: object, tokens: Sequence[str], timeout_s: float, clock: Clock) -> BookWarmup:
    """Wait up to ``timeout_s`` for the books of ``tokens``; report which are ready and which still warm up."""
    start = clock.monotonic()
    pending = set(await wait_live(books, tokens, timeout_s))
    return BookWarmup(
        waited_s=round(max(0.0, clock.monotonic() - start), 3),
        tokens={t: "warming" if t in pending else "ready" for t in tokens},
        feed={t: feed_state(feed, books, t) for t in tokens if t in pending},
    )
