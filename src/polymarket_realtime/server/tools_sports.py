"""``subscribe_sports_scores`` (toolset ``realtime``): live game scores from the sports socket.

The sports socket has no subscription frame: one socket streams every game, opened on the first sports
subscription and closed with the last. Filtering by league or slug is local (a router predicate), so two
subscriptions with different filters share the socket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.subscriptions import SPORTS_TYPES, create_subscription
from ..errors import InvalidInputError
from ..model.events import Event, SportsScore
from .annotations import CREATE as _SUBSCRIBE
from .context import app_context
from .results import SubscriptionResult

__all__ = ["DELAY_NOTE", "SportsSubscriptionResult", "check_leagues", "check_slugs", "register", "sports_matcher"]

DELAY_NOTE = (
    "Sports data is provided for informational purposes only: it may be delayed, contain errors, or omit "
    "recent events. Do not treat a score as final before `ended` is true."
)
MAX_FILTERS = 100
_LEAGUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,200}$")
_FOLLOW_UP = "Then call get_events(subscription_id, after_seq=0, wait_s=10) and keep passing after_seq=next_seq."


class SportsSubscriptionResult(SubscriptionResult):
    leagues: list[str] = Field(default_factory=list, description="League filter in force (upper case; empty = any).")
    slugs: list[str] = Field(default_factory=list, description="Game slug / gameId filter in force (empty = any).")
    filters: str = Field(description="Which game updates this subscription receives.")
    note: str = Field(default=DELAY_NOTE, description="Caveat on the data.")


def check_leagues(leagues: Iterable[str]) -> list[str]:
    """Upper-cased, de-duplicated league abbreviations; a clear error for blanks or odd text."""
    seen: dict[str, None] = {}
    for raw in leagues:
        value = raw.strip()
        if not value:
            raise InvalidInputError(
                "leagues contains an empty entry: send league abbreviations like 'NBA', 'NFL' or 'EPL', "
                "or leave leagues empty for every league"
            )
        if not _LEAGUE.match(value):
            raise InvalidInputError(
                f"leagues entry {value[:40]!r} is not a league abbreviation: send e.g. 'NBA', 'NHL' or 'EPL'"
            )
        seen[value.upper()] = None
    if len(seen) > MAX_FILTERS:
        raise InvalidInputError(f"leagues: at most {MAX_FILTERS} entries (got {len(seen)})")
    return list(seen)


def check_slugs(slugs: Iterable[str]) -> list[str]:
    """Lower-cased, de-duplicated game slugs (or numeric gameIds); a clear error for blanks or odd text."""
    seen: dict[str, None] = {}
    for raw in slugs:
        value = raw.strip().lower()
        if not value:
            raise InvalidInputError(
                "slugs contains an empty entry: send game slugs like 'nba-lal-bos-2025-11-20' (or numeric "
                "gameIds), or leave slugs empty for every game"
            )
        if not _SLUG.match(value):
            raise InvalidInputError(
                f"slugs entry {raw.strip()[:60]!r} is not a game slug: slugs are lowercase words and digits "
                "joined by '-' (e.g. 'sea-sf-2025-02-03'), or a numeric gameId"
            )
        seen[value] = None
    if len(seen) > MAX_FILTERS:
        raise InvalidInputError(f"slugs: at most {MAX_FILTERS} entries (got {len(seen)})")
    return list(seen)


def sports_matcher(leagues: Iterable[str], slugs: Iterable[str]) -> tuple[str, Callable[[Event], bool]]:
    """``(description, predicate)`` for the router: a game matches any given league OR any given slug.

    An update without a league (the slug-keyed shape) matches a league when its slug starts with
    ``<league>-`` (Polymarket's sports slugs do, e.g. ``nba-lal-bos-2025-11-20``).
    """
    league_set = frozenset(league.upper() for league in leagues)
    prefixes = tuple(f"{league.lower()}-" for league in league_set)
    slug_set = frozenset(slugs)

    def predicate(event: Event) -> bool:
        if not isinstance(event, SportsScore):
            return event.type == "feed_status" and getattr(event, "channel", "") == "sports"
        if not league_set and not slug_set:
            return True
        slug = event.slug.lower()
        if slug_set and (slug in slug_set or event.game_key.lower() in slug_set):
            return True
        if league_set:
            if event.league:
                return event.league.upper() in league_set
            return slug.startswith(prefixes)
        return False

    parts = []
    if league_set:
        parts.append(f"leagues {', '.join(sorted(league_set))} (slug-keyed updates without a league: slug prefix)")
    if slug_set:
        parts.append(f"games {', '.join(sorted(slug_set))} (by slug or gameId)")
    text = "every game update" if not parts else "updates of " + " or ".join(parts)
    return text + "; plus feed_status of the sports socket", predicate


def register(mcp: MCPServer[Application]) -> None:
    from .tools_realtime import _sub_result  # the shared result builder (imported late: it imports us)

    @mcp.tool(
        title="Subscribe to sports scores",
        annotations=_SUBSCRIBE,
        description=(
            "Stream live game scores (sports socket): `sports_score` events {game_key (gameId or slug), league, "
            "home_team, away_team, score ('<home>-<away>'), home_score, away_score, status, period, elapsed, live, "
            "ended}, plus `feed_status` when the socket drops or recovers. A game matching any leagues/slugs "
            "filter is delivered; both empty = every game. Informational, may be delayed. " + _FOLLOW_UP
        ),
    )
    async def subscribe_sports_scores(
        ctx: Context[Application],
        leagues: Annotated[
            list[str], Field(description="League abbreviations, e.g. ['NBA', 'NFL']; empty = any league.")
        ] = [],  # noqa: B006 - the MCP schema default; never mutated
        slugs: Annotated[
            list[str], Field(description="Game slugs (e.g. 'sea-sf-2025-02-03') or gameIds; empty = any game.")
        ] = [],  # noqa: B006
        callback_type: Annotated[
            Literal["notification", "log"],
            Field(description="'notification' (default) or 'log'."),
        ] = "notification",
    ) -> SportsSubscriptionResult:
        app = app_context(ctx)
        wanted_leagues = check_leagues(leagues)
        wanted_slugs = check_slugs(slugs)
        text, predicate = sports_matcher(wanted_leagues, wanted_slugs)
        sub = await create_subscription(
            app,
            kind="sports_scores",
            token_ids=(),
            event_types=SPORTS_TYPES,
            callback_type=callback_type,
            predicate=predicate,
            sports=True,
            meta={"leagues": wanted_leagues, "slugs": wanted_slugs},
        )
        base = _sub_result(sub, feed=app.feed)
        return SportsSubscriptionResult(
            **base.model_dump(),
            leagues=wanted_leagues,
            slugs=wanted_slugs,
            filters=text,
        )
