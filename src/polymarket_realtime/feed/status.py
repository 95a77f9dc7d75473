"""Typed, frozen feed status: what ``FeedBackend.status()`` returns (``get_realtime_status`` maps it to its result).

One :class:`ChannelStatus` per channel (market, user, rtds, polybolt, sports; ``redis`` in shared-feed
mode) aggregates that channel's sockets; :class:`FeedStatusReport` holds them with the feed statistics.
``as_dict()`` gives the JSON shape logged by the feed process and shown by ``system_status``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChannelStatus", "FeedStatusReport", "aggregate_sockets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStatus:
    """One channel: the aggregate of its sockets (``shards`` holds each socket's own figures)."""

    state: str = "idle"
    url: str = ""
    connected_since: float | None = None
    reconnects: int = 0
    last_error: str | None = None
    last_message_age_s: float | None = None
    assets: int = 0
    shards: tuple[Mapping[str, Any], ...] | None = ()
    """None when the channel has no sockets of its own here (shared-feed mode)."""
    # PolyBolt only (None elsewhere).
    credentials: str | None = None
    auth: str | None = None
    seq_gaps: int | None = None
    frames_lost: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state,
            "url": self.url,
            "connected_since": self.connected_since,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "last_message_age_s": self.last_message_age_s,
            "assets": self.assets,
        }
        extras: dict[str, str | int | None] = {
            "credentials": self.credentials,
            "auth": self.auth,
            "seq_gaps": self.seq_gaps,
            "frames_lost": self.frames_lost,
        }
        out.update({k: v for k, v in extras.items() if v is not None})
        if self.shards is not None:
            out["shards"] = [dict(s) for s in self.shards]
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStatusReport:
    connections: Mapping[str, ChannelStatus]
    statistics: Mapping[str, Any]
    """Counters (``FeedStatistics.snapshot``): an open set, every value JSON-ready."""
    mode: str | None = None
    """``"redis"`` for the shared-feed consumer, None for local sockets."""
    shared_feed: Mapping[str, Any] | None = field(default=None)
    """Shared-feed mode only: Redis link, lag, the active feed process."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.mode is None else {"mode": self.mode}
        out["connections"] = {name: c.as_dict() for name, c in self.connections.items()}
        out["statistics"] = dict(self.statistics)
        if self.shared_feed is not None:
            out["shared_feed"] = dict(self.shared_feed)
        return out


def aggregate_sockets(url: str, shards: Sequence[Mapping[str, Any]], assets: int | None, **extra: Any) -> ChannelStatus:
    """One channel's status from its sockets' ``status()`` (``assets=None``: the sockets' sum)."""
    if not shards:
        return ChannelStatus(url=url, assets=assets or 0, **extra)
    states = {s["state"] for s in shards}
    state = "connected" if states == {"connected"} else shards[0]["state"] if len(states) == 1 else "degraded"
    since = [s["connected_since"] for s in shards if s["connected_since"] is not None]
    ages = [s["last_message_age_s"] for s in shards if s["last_message_age_s"] is not None]
    errors = [s["last_error"] for s in shards if s["last_error"]]
    return ChannelStatus(
        state=state,
        url=url,
        connected_since=min(since) if since else None,
        reconnects=sum(s["reconnects"] for s in shards),
        last_error=errors[-1] if errors else None,
        last_message_age_s=min(ages) if ages else None,
        assets=assets if assets is not None else sum(s["assets"] for s in shards),
        shards=tuple(shards),
        **extra,
    )
