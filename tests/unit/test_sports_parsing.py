"""The sports socket's pure parts: both message shapes, the heartbeat, the event codec, local filters."""

from __future__ import annotations

import pytest

from polymarket_realtime.app.sports import check_leagues, check_slugs, sports_matcher
from polymarket_realtime.errors import InvalidInputError
from polymarket_realtime.model.events import FeedStatus, SportsScore, decode_event, encode_event, event_to_dict
from polymarket_realtime.server.notify import event_summary
from polymarket_realtime.venues.polymarket.sports import parse_sports_frame, split_score

TS = 1_700_000_000_000_000_000

GUIDE = (
    '{"gameId": 5127839, "leagueAbbreviation": "NBA", "homeTeam": "Los Angeles Lakers", '
    '"awayTeam": "Boston Celtics", "status": "InProgress", "live": true, "ended": false, '
    '"score": "98-94", "period": "Q4", "elapsed": "05:12"}'
)
ASYNCAPI_LIVE = (
    '{"slug": "sea-sf-2025-02-03", "live": true, "ended": false, "score": "14-7", "period": "Q2", '
    '"elapsed": "08:45", "last_update": "2025-02-03T20:15:30.123Z", "turn": "sea"}'
)
ASYNCAPI_ENDED = (
    '{"slug": "ars-che-2025-02-03", "live": false, "ended": true, "score": "2-1", "period": "FT", '
    '"elapsed": "", "last_update": "2025-02-03T22:00:00.000Z", "finished_timestamp": "2025-02-03T21:55:00.000Z"}'
)


def _one(text: str) -> SportsScore:
    frame = parse_sports_frame(text, TS)
    assert frame.malformed == 0 and frame.control is None
    (event,) = frame.events
    assert isinstance(event, SportsScore)
    return event


def test_guide_shape_keyed_by_game_id() -> None:
    event = _one(GUIDE)
    assert event.game_key == "5127839" and event.game_id == "5127839" and event.slug == ""
    assert (event.league, event.home_team, event.away_team) == ("NBA", "Los Angeles Lakers", "Boston Celtics")
    assert (event.score, event.home_score, event.away_score) == ("98-94", "98", "94")
    assert (event.status, event.period, event.elapsed) == ("InProgress", "Q4", "05:12")
    assert event.live is True and event.ended is False
    assert event.ts_event_ms == 0 and event.ts_recv_ns == TS


def test_asyncapi_shape_keyed_by_slug_with_timestamps() -> None:
    live = _one(ASYNCAPI_LIVE)
    assert live.game_key == "sea-sf-2025-02-03" and live.game_id == "" and live.league == ""
    assert (live.home_score, live.away_score, live.turn, live.period) == ("14", "7", "sea", "Q2")
    assert live.ts_event_ms == 1738613730123
    ended = _one(ASYNCAPI_ENDED)
    assert ended.ended is True and ended.live is False and ended.period == "FT"
    assert ended.finished_ms == 1738619700000 and ended.ts_event_ms == 1738620000000


def test_game_id_wins_over_slug_and_unknown_vocabulary_passes_through() -> None:
    event = _one('{"gameId": "77", "slug": "nba-x-y", "status": "SomethingNew", "period": "End 3", "x": [1]}')
    assert event.game_key == "77" and event.slug == "nba-x-y"
    assert (event.status, event.period) == ("SomethingNew", "End 3")
    assert event.live is None and event.score == "" and event.home_score == ""


def test_score_splits_on_first_dash_only() -> None:
    assert split_score("2-1") == ("2", "1")
    assert split_score("6-4, 3-6") == ("6", "4, 3-6")
    assert split_score("") == ("", "")
    assert split_score("tbd") == ("", "")


def test_ping_and_other_text_are_heartbeats_not_malformed() -> None:
    for text, control in (("ping", "ping"), ("PING", "ping"), ("hello", "other"), ("", "empty")):
        frame = parse_sports_frame(text, TS)
        assert (frame.control, frame.malformed, frame.events) == (control, 0, [])
    assert parse_sports_frame(b"ping", TS).control == "ping"


def test_bad_messages_are_counted_and_good_ones_kept() -> None:
    frame = parse_sports_frame(f'[{GUIDE}, {{"score": "1-0"}}, 5, {ASYNCAPI_LIVE}]', TS)
    assert [e.game_key for e in frame.events if isinstance(e, SportsScore)] == ["5127839", "sea-sf-2025-02-03"]
    assert frame.malformed == 2
    assert parse_sports_frame('{"gameId": 1, "live": "yes"', TS).malformed == 1


def test_event_round_trips_through_the_codec() -> None:
    for text in (GUIDE, ASYNCAPI_LIVE, ASYNCAPI_ENDED):
        event = _one(text)
        assert decode_event(encode_event(event)) == event
        assert event_to_dict(event)["type"] == "sports_score"
    status = FeedStatus(channel="sports", connection_id="sports-0", state="disconnected")
    assert decode_event(encode_event(status)) == status


def test_filters_validate_and_normalize() -> None:
    assert check_leagues([" nba", "NBA", "epl"]) == ["NBA", "EPL"]
    assert check_slugs(["SEA-SF-2025-02-03", "5127839"]) == ["sea-sf-2025-02-03", "5127839"]
    with pytest.raises(InvalidInputError, match="leagues contains an empty entry"):
        check_leagues(["NBA", " "])
    with pytest.raises(InvalidInputError, match="not a league abbreviation"):
        check_leagues(["N;BA"])
    with pytest.raises(InvalidInputError, match="slugs contains an empty entry"):
        check_slugs([""])
    with pytest.raises(InvalidInputError, match="not a game slug"):
        check_slugs(["sea sf"])


def test_matcher_by_league_slug_and_slug_prefix() -> None:
    nba = _one(GUIDE)
    sea = _one(ASYNCAPI_LIVE)
    prefixed = _one('{"slug": "nfl-sea-sf-2025-02-03", "score": "0-0"}')
    sports_status = FeedStatus(channel="sports", connection_id="sports-0", state="connected")
    market_status = FeedStatus(channel="market", connection_id="market-0", state="connected")
    _, everything = sports_matcher([], [])
    assert all(everything(e) for e in (nba, sea, prefixed, sports_status)) and not everything(market_status)
    _, by_league = sports_matcher(["NFL"], [])
    assert [by_league(e) for e in (nba, sea, prefixed)] == [False, False, True]
    text, either = sports_matcher(["NBA"], ["sea-sf-2025-02-03"])
    assert [either(e) for e in (nba, sea, prefixed)] == [True, True, False]
    assert "NBA" in text and "sea-sf-2025-02-03" in text
    upper = _one('{"slug": "NFL-SEA-SF-2025-02-03"}')
    assert by_league(upper) and sports_matcher([], ["nfl-sea-sf-2025-02-03"])[1](upper)
    _, by_game_id = sports_matcher([], ["5127839"])
    assert [by_game_id(e) for e in (nba, sea)] == [True, False]


def test_notification_summary_names_the_game() -> None:
    assert event_summary(_one(GUIDE)) == "NBA Los Angeles Lakers v Boston Celtics 98-94 Q4 InProgress"
    assert event_summary(_one(ASYNCAPI_LIVE)) == "sea-sf-2025-02-03 14-7 Q2"
