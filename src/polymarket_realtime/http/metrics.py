"""``GET /api/metrics``: Prometheus text exposition of the feed, the push hub and the services."""

from __future__ import annotations

from typing import Any

from .hub import Hub
from .sources import Sources

__all__ = ["EventRate", "render"]


class EventRate:
    """Events per second over the interval between two scrapes (first scrape: since start)."""

    def __init__(self) -> None:
        self._last: tuple[float, int] | None = None
        self.rate = 0.0

    def update(self, total: int, now: float) -> float:
        """``now``: the application clock's monotonic seconds."""
        if self._last is not None and now > self._last[0]:
            self.rate = max(0.0, (total - self._last[1]) / (now - self._last[0]))
        self._last = (now, total)
        return self.rate


def _line(out: list[str], name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        out.append(f"{name}{labels} {value:g}")


def render(hub: Hub, sources: Sources, rate: EventRate) -> str:
    app = sources.app
    feed: dict[str, Any] = {}
    try:
        feed = app.feed.status().as_dict()
    except Exception:  # metrics are a boundary: report what we can
        feed = {}
    connections = feed.get("connections", {}) if isinstance(feed.get("connections"), dict) else {}
    stats = feed.get("statistics", {}) if isinstance(feed.get("statistics"), dict) else {}
    events_total = int(stats.get("total_events") or 0)
    out: list[str] = []
    _line(
        out,
        "pmrt_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        [("", round(app.clock.monotonic() - app.started_monotonic, 3))],
    )
    _line(
        out,
        "pmrt_feed_connections",
        "gauge",
        "Upstream feed connections (shards) by channel and state.",
        [
            (f'{{channel="{name}",state="{conn.get("state", "idle")}"}}', len(conn.get("shards", [])) or 0)
            for name, conn in connections.items()
            if isinstance(conn, dict)
        ],
    )
    _line(out, "pmrt_feed_events_total", "counter", "Venue events received by the feed.", [("", events_total)])
    _line(
        out,
        "pmrt_feed_events_per_second",
        "gauge",
        "Venue events per second since the previous scrape.",
        [("", round(rate.update(events_total, app.clock.monotonic()), 3))],
    )
    _line(
        out,
        "pmrt_router_sink_dropped_total",
        "counter",
        "Events dropped by full router sinks.",
        [("", int(app.router.sink_dropped))],
    )
    _line(out, "pmrt_ws_clients", "gauge", "Connected dashboard WebSocket clients.", [("", len(hub.clients))])
    _line(
        out,
        "pmrt_ws_messages_published_total",
        "counter",
        "Messages published to push channels.",
        [("", hub.published)],
    )
    _line(out, "pmrt_ws_messages_sent_total", "counter", "Messages queued to WebSocket clients.", [("", hub.sent)])
    _line(
        out,
        "pmrt_ws_dropped_clients_total",
        "counter",
        "Slow WebSocket clients dropped (queue overflow).",
        [("", hub.drops)],
    )
    if sources.paper is not None:
        _line(
            out,
            "pmrt_paper_sessions",
            "gauge",
            "Paper sessions by state.",
            [(f'{{state="{k}"}}', v) for k, v in sources.paper.counts_by_state().items()],
        )
        _line(out, "pmrt_paper_fills_total", "counter", "Paper fills made.", [("", sources.paper.fills_made)])
    if sources.agents is not None:
        _line(
            out,
            "pmrt_agents",
            "gauge",
            "Agents by state.",
            [(f'{{state="{k}"}}', v) for k, v in sources.agents.counts_by_state().items()],
        )
    return "\n".join(out) + "\n"
