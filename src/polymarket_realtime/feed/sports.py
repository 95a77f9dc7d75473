"""The sports socket's channel behaviour (see WEBSOCKET_INTEGRATION.md, "Sports socket").

The socket is public and has no subscription frame: once connected, the server streams every game
update, so one connection serves every sports subscription and filtering (league, slug) is local, in
the router. The heartbeat runs the other way round from the CLOB sockets: the *server* sends text
``ping`` every 5 s and closes the socket when no ``pong`` comes back within 10 s, so this channel never
pings, answers each ``ping`` inline, and presumes the socket dead after ``sports_silence_timeout_s``
without a heartbeat or an update.
"""

from __future__ import annotations

from ..config import Settings
from ..venues.polymarket.sports import PONG, parse_sports_frame
from .connection import ChannelSpec

__all__ = ["SPORTS_CONNECTION_ID", "no_initial_frames", "sports_spec"]

SPORTS_CONNECTION_ID = "sports-0"


def sports_spec(settings: Settings) -> ChannelSpec:
    return ChannelSpec(
        channel="sports",
        url=settings.sports_ws_url,
        ping_interval_s=None,  # the server pings us
        pong_timeout_s=settings.sports_silence_timeout_s,
        # Games can be hours apart (no game live): the server's ping is the liveness signal, not data.
        idle_timeout_s=None,
        parse=parse_sports_frame,
        answers={"ping": PONG},
    )


async def no_initial_frames(refresh: bool) -> list[str]:
    """The sports socket needs no subscription frame (sending one is ignored at best)."""
    return []
