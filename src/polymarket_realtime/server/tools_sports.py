"""``subscribe_sports_scores`` (toolset ``realtime``): live game scores from the sports socket.

The sports socket has no subscription frame: one socket streams every game, opened on the first sports
subscription and closed with the last. Filtering by league or slug is local (a router predicate), so two
subscriptions with different filters share the socket.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ..app.root import Application
from ..app.sports import check_leagues, check_slugs, sports_matcher
from ..app.subscriptions import SPORTS_TYPES, create_subscription
from .annotations import CREATE as _SUBSCRIBE
from .context import app_context
from .results import SubscriptionResult

__all__ = ["DELAY_NOTE", "SportsSubscriptionResult", "register"]

DELAY_NOTE = (
    "Sports data is provided for informational purposes only: it may be delayed, contain errors, or omit "
    "recent events. Do not treat a score as final before `ended` is true."
)
_FOLLOW_UP = "Then get_events(subscription_id, after_seq=0, wait_s=10), passing after_seq=next_seq each time."


class SportsSubscriptionResult(SubscriptionResult):
    leagues: list[str] = Field(default_factory=list, description="League filter in force (upper case; empty = any).")
    slugs: list[str] = Field(default_factory=list, description="Game slug / gameId filter in force (empty = any).")
    filters: str = Field(description="Which game updates this subscription receives.")
    note: str = Field(default=DELAY_NOTE, description="Caveat on the data.")


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
