"""subscribe_comments polls Gamma ``GET /comments`` (the live stream is retired): each comment once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.server.comments import CommentsPoller
from tests.integration._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio


def _poller(h: Harness) -> CommentsPoller:
    return h.server.running_app().service(CommentsPoller)


async def _after_polls(h: Harness, n: int) -> None:
    start = _poller(h).polls
    await h.sim.wait_until(lambda: _poller(h).polls >= start + n, timeout=10)


async def test_comments_are_polled_and_each_delivered_once(tmp_path: Path) -> None:
    async with running(tmp_path, comments_poll_s=0.05) as h:
        event_id = h.sim.model.markets[0].event_id
        other_event = h.sim.model.markets[2].event_id
        h.sim.model.comments.add(event_id, "posted before the subscription")
        sub = await h.call("subscribe_comments", {"event_id": event_id})
        assert sub["kind"] == "comments" and sub["poll_interval_s"] == 0.05
        assert "polled every 0.05 s" in sub["next_step"]
        first = h.sim.model.comments.add(event_id, "first!")
        h.sim.model.comments.add(other_event, "another event")
        events, cursor = await h.events_until(
            sub["subscription_id"], lambda evs: any(e["type"] == "comment" for e in evs)
        )
        second = h.sim.model.comments.add(event_id, "second")
        third = h.sim.model.comments.add(event_id, "third")
        more, cursor = await h.events_until(
            sub["subscription_id"],
            lambda evs: sum(e["type"] == "comment" for e in evs) >= 2,
            after_seq=cursor,
        )
        await _after_polls(h, 3)  # later polls see the same comments again: nothing new is emitted
        tail = await h.call("get_events", {"subscription_id": sub["subscription_id"], "after_seq": cursor})
        comments = [e["data"] for e in [*events, *more, *tail["events"]] if e["type"] == "comment"]
        assert [c["comment_id"] for c in comments] == [first["id"], second["id"], third["id"]]
        assert [c["body"] for c in comments] == ["first!", "second", "third"]
        assert all(c["entity_id"] == event_id and c["kind"] == "comment_created" for c in comments)
        assert h.sim.observed.rest_requests["GET /comments"] >= 4


async def test_two_subscriptions_on_one_event_share_one_poll(tmp_path: Path) -> None:
    async with running(tmp_path, comments_poll_s=0.05) as h:
        event_id = h.sim.model.markets[1].event_id
        a = await h.call("subscribe_comments", {"event_id": event_id})
        b = await h.call("subscribe_comments", {"event_id": event_id})
        posted = h.sim.model.comments.add(event_id, "hello")
        got: list[Any] = []
        for sub in (a, b):
            events, _ = await h.events_until(
                sub["subscription_id"], lambda evs: any(e["type"] == "comment" for e in evs)
            )
            got.append([e["data"]["comment_id"] for e in events if e["type"] == "comment"])
        assert got == [[posted["id"]], [posted["id"]]]
        before = _poller(h).requests
        polls = _poller(h).polls
        await _after_polls(h, 2)
        assert (_poller(h).requests - before) <= (_poller(h).polls - polls) * 1 + 1  # one request per poll


@pytest.mark.parametrize(
    ("event_id", "message"),
    [("999999", "no Gamma event with id '999999'"), ("abc", "numeric Gamma event id"), ("", "numeric Gamma event id")],
)
async def test_bad_event_ids_are_refused_with_nothing_subscribed(tmp_path: Path, event_id: str, message: str) -> None:
    async with running(tmp_path, comments_poll_s=0.05) as h:
        error = await h.call_error("subscribe_comments", {"event_id": event_id})
        assert message in error
        assert h.server.running_app().router.list() == []
        assert h.sim.observed.rest_requests["GET /comments"] == 0
