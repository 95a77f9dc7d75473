"""The embedded feed's typed status: each channel's sockets aggregated (:mod:`.status`), plus statistics.

A friend of :class:`~.manager.WebSocketManager` (reads its channels' sockets), kept apart from the coordinator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .connection import FeedConnection
from .status import ChannelStatus, FeedStatusReport, aggregate_sockets

if TYPE_CHECKING:
    from .manager import WebSocketManager

__all__ = ["manager_status"]


def manager_status(manager: WebSocketManager) -> FeedStatusReport:
    """Every channel's sockets aggregated, and the feed statistics (``get_realtime_status``)."""
    s = manager.settings
    market = [
        *manager._marketch.shard_conns.values(),
        *([manager._marketch.events_conn] if manager._marketch.events_conn else []),
    ]

    def one(url: str, conn: FeedConnection | None) -> ChannelStatus:
        return aggregate_sockets(url, [conn.status()] if conn is not None else [], None)

    connections = {
        "market": aggregate_sockets(s.market_ws_url, [c.status() for c in market], len(manager._asset_refs)),
        "user": one(s.user_ws_url, manager._user.conn),
        "rtds": one(s.rtds_ws_url, manager._rtds.conn),
        "polybolt": manager.polybolt.status(),
        "sports": one(s.sports_ws_url, manager._sports_conn),
    }
    states = {c.connection_id: c.state for c in manager._all_connections()}
    states.update({c.connection_id: c.state for c in manager.polybolt.connections.values()})
    statistics = manager.stats.snapshot(
        reconnect_count=manager.reconnect_count(),
        dropped_events=manager.router.sink_dropped,
        connections=states,
    )
    gap = manager._user.gap
    if gap is not None and gap.reconciliations:
        statistics["user_gap"] = {
            "reconciliations": gap.reconciliations,
            "recovered_events": gap.recovered,
            "duplicates_dropped": gap.duplicates_dropped,
            "errors": gap.errors,
        }
    return FeedStatusReport(connections=connections, statistics=statistics)
