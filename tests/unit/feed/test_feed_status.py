"""Typed feed status: aggregation of a channel's sockets and the JSON shape shown by ``system_status``."""

from __future__ import annotations

from typing import Any

from polymarket_realtime.feed.status import ChannelStatus, FeedStatusReport, aggregate_sockets


def _sock(state: str, *, since: float | None = None, age: float | None = None, error: str | None = None) -> Any:
    return {
        "state": state,
        "connected_since": since,
        "reconnects": 1,
        "last_error": error,
        "last_message_age_s": age,
        "assets": 3,
    }


def test_idle_channel_keeps_the_wanted_count() -> None:
    idle = aggregate_sockets("wss://x", [], 4)
    assert idle == ChannelStatus(url="wss://x", assets=4)
    assert idle.as_dict()["shards"] == [] and "auth" not in idle.as_dict()


def test_mixed_sockets_are_degraded_with_the_oldest_connection_and_freshest_message() -> None:
    shards = [_sock("connected", since=10.0, age=0.5), _sock("backoff", error="boom")]
    status = aggregate_sockets("wss://x", shards, None)
    assert status.state == "degraded"
    assert status.connected_since == 10.0 and status.last_message_age_s == 0.5
    assert status.reconnects == 2 and status.assets == 6 and status.last_error == "boom"
    both_up = aggregate_sockets("wss://x", [_sock("connected"), _sock("connected")], 9)
    assert both_up.state == "connected" and both_up.assets == 9


def test_report_dict_carries_polybolt_fields_and_shared_feed_only_when_set() -> None:
    polybolt = aggregate_sockets("wss://p", [], 0, credentials="missing", auth="none", seq_gaps=0, frames_lost=0)
    report = FeedStatusReport(connections={"polybolt": polybolt}, statistics={"total_events": 1})
    shape = report.as_dict()
    assert set(shape) == {"connections", "statistics"}
    assert shape["connections"]["polybolt"]["auth"] == "none" and shape["connections"]["polybolt"]["seq_gaps"] == 0
    redis = FeedStatusReport(
        connections={"redis": ChannelStatus(shards=None)}, statistics={}, mode="redis", shared_feed={"link": "up"}
    )
    assert redis.as_dict()["mode"] == "redis" and redis.as_dict()["shared_feed"] == {"link": "up"}
    assert "shards" not in redis.as_dict()["connections"]["redis"]
