"""Comments on Gamma events, polled over HTTP (Polymarket retired the live comments stream).

``subscribe_comments(event_id)`` registers a subscription; :class:`CommentsPoller` asks Gamma
``GET /comments?parent_entity_type=Event&parent_entity_id=<id>`` (newest first) for every watched event
once per ``settings.comments_poll_s`` and routes one ``comment`` event per comment id it has not seen
before. The comments that exist when the first subscription on an event starts are the baseline: they
are marked seen, not replayed.

Rate budget: Gamma allows 200 ``/comments`` requests per 10 s. At most :data:`MAX_EVENTS` events are
polled, with at most :data:`MAX_PAGES` requests each per poll, and the interval is at least
``MIN_COMMENTS_POLL_S`` (config), so the worst case stays at 10 * 2 / 2 s = 100 requests per 10 s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InvalidInputError, NotFoundError, PolymarketRealtimeError
from ..routing.router import EventRouter
from ..venues.polymarket.gamma import GammaClient
from ..venues.polymarket.gamma_parse import parse_comment

__all__ = ["MAX_EVENTS", "MAX_PAGES", "PAGE_SIZE", "CommentsPoller"]

log = logging.getLogger(__name__)

MAX_EVENTS = 10
"""Distinct events whose comments are polled at once."""
PAGE_SIZE = 50
MAX_PAGES = 2
"""Pages read per event per poll; more new comments than this in one interval are partly skipped (logged)."""
_SEEN_CAP = 5_000


class CommentsPoller:
    def __init__(
        self, gamma: GammaClient, router: EventRouter, *, interval_s: float, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._gamma = gamma
        self._router = router
        self._interval_s = interval_s
        self._clock = clock
        self._seen: dict[str, dict[str, None]] = {}
        """event id -> comment ids already routed (or present at the baseline)."""
        self.polls = 0
        self.requests = 0
        self.errors = 0

    @property
    def interval_s(self) -> float:
        return self._interval_s

    def watched(self) -> set[str]:
        return {str(s.meta["event_id"]) for s in self._router.list() if s.kind == "comments" and s.meta.get("event_id")}

    async def prepare(self, event_id: str) -> None:
        """Check the event exists and take the baseline; raises before anything is registered."""
        watched = self.watched()
        if event_id not in watched and len(watched) >= MAX_EVENTS:
            raise InvalidInputError(
                f"comments are already polled for {len(watched)} events (at most {MAX_EVENTS}, to stay inside "
                "Gamma's /comments rate limit); unsubscribe one first"
            )
        if await self._gamma.get_event(event_id) is None:
            raise NotFoundError(
                f"no Gamma event with id {event_id!r}: pass the numeric event id (get_market shows the market's "
                "event, or take it from the event page). Nothing was subscribed."
            )
        if event_id not in self._seen:
            page = await self._gamma.comments(event_id, limit=PAGE_SIZE)
            self.requests += 1
            self._seen[event_id] = {str(c.get("id")): None for c in page}

    async def poll_once(self) -> int:
        """One poll of every watched event; returns how many new comments were routed."""
        watched = self.watched()
        for gone in set(self._seen) - watched:
            del self._seen[gone]
        if not watched:
            return 0
        self.polls += 1
        routed = 0
        for event_id in sorted(watched):
            seen = self._seen.setdefault(event_id, {})
            fresh: list[Mapping[str, Any]] = []
            try:
                for page_no in range(MAX_PAGES):
                    page = await self._gamma.comments(event_id, limit=PAGE_SIZE, offset=page_no * PAGE_SIZE)
                    self.requests += 1
                    new = [c for c in page if str(c.get("id")) not in seen]
                    fresh.extend(new)
                    if len(new) < len(page) or len(page) < PAGE_SIZE:
                        break
                else:
                    log.warning(
                        "more than %d new comments on event %s in one poll; older ones skipped", len(fresh), event_id
                    )
            except PolymarketRealtimeError as exc:
                # One event's Gamma error must not starve the others; its comments come on a later poll.
                self.errors += 1
                log.warning("comments poll of event %s failed: %s", event_id, exc)
                continue
            now_ns = self._clock.time_ns()
            for raw in reversed(fresh):  # oldest first
                comment_id = str(raw.get("id"))
                if comment_id in seen:
                    continue
                seen[comment_id] = None
                self._router.route(parse_comment(event_id, raw, now_ns))
                routed += 1
            while len(seen) > _SEEN_CAP:
                del seen[next(iter(seen))]
        return routed

    async def run(self) -> None:
        """Poll forever (start in the server task group)."""
        while True:
            await anyio.sleep(self.interval_s)
            try:
                await self.poll_once()
            except PolymarketRealtimeError as exc:
                log.warning("comments poll failed: %s", exc)
