"""Sports-score subscriptions: the league/slug filters (checked) and the router predicate they make.

The sports socket has no subscription frame (one socket streams every game), so filtering is local.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..errors import InvalidInputError
from ..model.events import Event, SportsScore

__all__ = ["MAX_FILTERS", "check_leagues", "check_slugs", "sports_matcher"]

MAX_FILTERS = 100
_LEAGUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,200}$")


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
