"""Sports socket frames -> :class:`~polymarket_realtime.model.events.SportsScore` (pure, no I/O).

Contract (the protocol in our words: WEBSOCKET_INTEGRATION.md, "Sports socket")
--------------------------------------------------------------------------------
* Same result shape and guarantees as the other parsers (:mod:`.parsing`): never raises on bad input,
  counts it. A frame is one bare game object (no envelope, no event type); a JSON array of them is
  accepted too.
* The venue documents two shapes. One is keyed by a numeric ``gameId`` and names the league
  (``leagueAbbreviation``) and teams (``homeTeam``/``awayTeam``); the other is keyed by ``slug`` and may
  carry ``last_update``, ``finished_timestamp`` and ``turn``. Both become one :class:`SportsScore` whose
  ``game_key`` is the ``gameId`` (as text) when present, else the slug. An object with neither is malformed.
* ``score`` (``"<home>-<away>"``) is split on its first ``-``; ``status`` and ``period`` stay the venue's
  strings (their vocabularies differ per sport). Unknown fields are ignored.
* Text that is not JSON is the heartbeat: ``ping`` (any case) gives ``control="ping"`` (the connection
  answers ``pong``), anything else ``"other"``; neither counts as malformed.
"""

from __future__ import annotations

import msgspec

from polymarket_realtime.model.events import Event, SportsScore

from ...model.timeunits import iso_to_ms, parse_ts_ms
from .frames import CONVERT_ERRORS, BadValue, ParsedFrame, control_frame, split_raw

__all__ = ["PING", "PONG", "parse_sports_frame", "split_score"]

PING = "ping"
"""What the sports server sends as its heartbeat (text frame)."""
PONG = "pong"
"""Our reply to every :data:`PING`."""

_Text = str | int | float | None


class _WireGame(msgspec.Struct, frozen=True, gc=False):
    """Both documented shapes in one struct: every field optional, unknown fields ignored."""

    # The wire's camelCase names (the guide's shape); the slug shape uses snake_case.
    gameId: int | str | None = None
    slug: str | None = None
    leagueAbbreviation: str | None = None
    homeTeam: str | None = None
    awayTeam: str | None = None
    status: _Text = None
    live: bool | None = None
    ended: bool | None = None
    score: _Text = None
    period: _Text = None
    elapsed: _Text = None
    turn: _Text = None
    last_update: _Text = None
    lastUpdate: _Text = None
    finished_timestamp: _Text = None
    finishedAt: _Text = None


_DECODER = msgspec.json.Decoder(_WireGame | list[_WireGame])
_ELEMENT = msgspec.json.Decoder(_WireGame)


def _text(value: _Text) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, "g")
    return str(value).strip()


def _ts_ms(value: _Text) -> int:
    """Unix ms from an ISO-8601 string (``2025-02-03T20:15:30.123Z``) or a seconds/ms number; 0 if absent."""
    if value is None or value == "":
        return 0
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return iso_to_ms(value)
    return parse_ts_ms(value)


def split_score(score: str) -> tuple[str, str]:
    """``"98-94"`` -> ``("98", "94")``: split on the first ``-``; ``("", "")`` when there is none."""
    home, sep, away = score.partition("-")
    if not sep:
        return "", ""
    return home.strip(), away.strip()


def _game(m: _WireGame, ts: int) -> SportsScore:
    game_id = _text(m.gameId)
    slug = (m.slug or "").strip()
    key = game_id or slug
    if not key:
        raise BadValue("game update without gameId or slug")
    score = _text(m.score)
    home, away = split_score(score)
    updated = _ts_ms(m.last_update) or _ts_ms(m.lastUpdate)
    return SportsScore(
        game_key=key,
        game_id=game_id,
        slug=slug,
        league=(m.leagueAbbreviation or "").strip(),
        home_team=(m.homeTeam or "").strip(),
        away_team=(m.awayTeam or "").strip(),
        score=score,
        home_score=home,
        away_score=away,
        status=_text(m.status),
        period=_text(m.period),
        elapsed=_text(m.elapsed),
        live=m.live,
        ended=m.ended,
        turn=_text(m.turn),
        finished_ms=_ts_ms(m.finished_timestamp) or _ts_ms(m.finishedAt),
        ts_event_ms=updated,
        ts_recv_ns=ts,
    )


def parse_sports_frame(data: str | bytes, ts_recv_ns: int) -> ParsedFrame:
    """Parse one sports-socket frame: game updates, or the server's ``ping`` heartbeat."""
    control = control_frame(data)
    if control is not None:
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        if text.strip().lower() == PING:
            return ParsedFrame([], "ping")
        if control.control == "empty":
            return control
        return ParsedFrame([], "other")  # any other text is a heartbeat too (never malformed)
    malformed = 0
    games: list[_WireGame]
    try:
        decoded = _DECODER.decode(data)
        games = decoded if isinstance(decoded, list) else [decoded]
    except msgspec.DecodeError:
        raws = split_raw(data)
        if raws is None:
            return ParsedFrame([], None, 1)
        games = []
        for raw in raws:
            try:
                games.append(_ELEMENT.decode(raw))
            except msgspec.DecodeError:
                malformed += 1
    if not games and not malformed:
        return ParsedFrame([], "empty")
    events: list[Event] = []
    for game in games:
        try:
            events.append(_game(game, ts_recv_ns))
        except CONVERT_ERRORS:
            malformed += 1
    return ParsedFrame(events, None, malformed)
