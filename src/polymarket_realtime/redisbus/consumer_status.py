"""Status of the shared-feed consumer: its Redis link shown per channel, statistics, and ``shared_feed``.

A friend of :class:`~.consumer.RedisFeedBackend` (reads its link state from
:class:`~.link.RedisLink`), kept apart from the backend facade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..feed.status import ChannelStatus, FeedStatusReport

if TYPE_CHECKING:
    from .consumer import RedisFeedBackend

__all__ = ["consumer_status"]


def consumer_status(backend: RedisFeedBackend) -> FeedStatusReport:
    """The backend's typed status: every channel is the one Redis link, plus ``shared_feed`` details."""
    link = backend.link
    now = backend._clock.monotonic()
    last = backend.reader.last_event_monotonic
    age = round(now - last, 3) if last is not None else None
    state = "connected" if link.link_up else ("connecting" if not link.ever_up else "disconnected")
    error = None if link.link_up else link.last_error

    def conn(assets: int, wanted: object = True) -> ChannelStatus:
        if not wanted:
            return ChannelStatus(shards=None)
        return ChannelStatus(
            shards=None,
            state=state,
            url=f"shared feed via {backend.url}",
            connected_since=link.connected_since,
            reconnects=link.reconnects,
            last_error=error,
            last_message_age_s=age,
            assets=assets,
        )

    w = backend.wants
    connections = {
        "market": conn(len(backend._assets)),
        "user": conn(len(w.user), w.wants_user),
        "rtds": conn(len(w.rtds), w.rtds),
        "polybolt": conn(len(w.reference), w.reference),
        "sports": conn(w.sports.count, w.sports),
        "redis": conn(len(backend.reader.cursors)),
    }
    statistics = backend.stats.snapshot(
        reconnect_count=link.reconnects,
        dropped_events=backend._router.sink_dropped,
        connections={"redis": state},
    )
    statistics["malformed_frames"] = backend.reader.malformed
    return FeedStatusReport(
        mode="redis",
        connections=connections,
        statistics=statistics,
        shared_feed={
            "redis": backend.url,
            "link": "up" if link.link_up else "down",
            "down_since": link.down_since,
            "last_error": error,
            "redis_run_id": link.run_id,
            "server_id": backend.server_id,
            "feed_leader": link.feed_leader,
            "feed_publishing": link.feed_leader is not None,
            "measured_age_s": (
                round(now - link.measured_monotonic, 3) if link.measured_monotonic is not None else None
            ),
            "lag": backend.lag(),
            "duplicates_dropped": backend.duplicates,
            "consumer_name": backend.consumer_name,
            "consumer_name_conflict": link.name_conflict,
            "cursor_gaps": backend.reader.gaps,
            "sessions": backend.sessions.status(),
            "lease": {"ttl_s": backend.lease.ttl_s, **backend.wants.summary()},
        },
    )
