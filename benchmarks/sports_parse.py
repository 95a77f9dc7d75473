"""Cost of one sports-socket frame through ``parse_sports_frame`` (both message shapes and the heartbeat).

The sports socket carries a few updates per second, so this is a sanity figure (microseconds per frame),
not a hot path. Run: ``.venv/bin/python benchmarks/sports_parse.py [--quick]``.
"""

from __future__ import annotations

import sys
import timeit

from polymarket_realtime.venues.polymarket.sports import parse_sports_frame

FRAMES = {
    "gameId shape": (
        '{"gameId": 5127839, "leagueAbbreviation": "NBA", "homeTeam": "Los Angeles Lakers", '
        '"awayTeam": "Boston Celtics", "status": "InProgress", "live": true, "ended": false, '
        '"score": "98-94", "period": "Q4", "elapsed": "05:12"}'
    ),
    "slug shape": (
        '{"slug": "sea-sf-2025-02-03", "live": true, "ended": false, "score": "14-7", "period": "Q2", '
        '"elapsed": "08:45", "last_update": "2025-02-03T20:15:30.123Z", "turn": "sea"}'
    ),
    "ping heartbeat": "ping",
}


def main() -> None:
    number = 10_000 if "--quick" in sys.argv else 100_000
    for name, frame in FRAMES.items():
        best = min(timeit.repeat(lambda f=frame: parse_sports_frame(f, 1), number=number, repeat=3))
        print(f"sports parse  {name:<15} {best / number * 1e6:6.2f} us/frame")


if __name__ == "__main__":
    main()
