"""subscribe_comments polls Gamma ``GET /comments`` (the live stream is retired): each comment once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymarket_realtime.app.comments import MAX_EVENTS, CommentsPoller
from polymarket_realtime.simulator import SimulatorConfig
from tests.integration._mcp_harness import Harness, running

pytestmark = pytest.mark.anyio


def _poller(h: Harness) -> CommentsPoller:
    return h.server.running_app().comments


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


async def test_a_burst_larger_than_one_page_is_read_across_pages_once(tmp_path: Path) -> None:
    async with running(tmp_path, comments_poll_s=0.05) as h:
        event_id = h.sim.model.markets[0].event_id
        sub = await h.call("subscribe_comments", {"event_id": event_id})
        # Posted with no await in between: the next poll finds all 70 new (more than one 50-comment page).
        posted = [h.sim.model.comments.add(event_id, f"burst {i}")["id"] for i in range(70)]
        events, cursor = await h.events_until(
            sub["subscription_id"], lambda evs: sum(e["type"] == "comment" for e in evs) >= 70
        )
        await _after_polls(h, 2)
        tail = await h.call("get_events", {"subscription_id": sub["subscription_id"], "after_seq": cursor})
        got = [e["data"]["comment_id"] for e in [*events, *tail["events"]] if e["type"] == "comment"]
        assert got == posted  # oldest first, each once


async def test_at_most_ten_events_are_polled_at_once(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=3, markets=24, rate_per_s=0.0, resolve_after_s=None)
    async with running(tmp_path, sim_config=config, comments_poll_s=5.0) as h:
        events = sorted({m.event_id for m in h.sim.model.markets})
        assert len(events) == 12
        for event_id in events[:MAX_EVENTS]:
            await h.call("subscribe_comments", {"event_id": event_id})
        await h.call("subscribe_comments", {"event_id": events[0]})  # an event already polled is fine
        error = await h.call_error("subscribe_comments", {"event_id": events[MAX_EVENTS]})
        assert "at most 10" in error and "rate limit" in error
        assert len(h.server.running_app().router.list()) == MAX_EVENTS + 1


async def test_one_events_gamma_error_does_not_starve_the_other_events(tmp_path: Path) -> None:
    async with running(tmp_path, comments_poll_s=3600.0) as h:  # the test drives the polls itself
        events = sorted({h.sim.model.markets[0].event_id, h.sim.model.markets[2].event_id})
        subs = [(await h.call("subscribe_comments", {"event_id": e}))["subscription_id"] for e in events]
        for event_id in events:
            h.sim.model.comments.add(event_id, f"on {event_id}")
        # The first event polled (sorted ids) gets a 503 with a Retry-After too long to wait in place.
        h.sim.faults.rest.add(503, count=1, path="/comments", retry_after="600")
        assert await _poller(h).poll_once() == 1
        assert _poller(h).errors == 1 and h.sim.faults.rest.served == {503: 1}
        second, _ = await h.events_until(subs[1], lambda evs: any(e["type"] == "comment" for e in evs))
        assert [e["data"]["body"] for e in second if e["type"] == "comment"] == [f"on {events[1]}"]
        assert await _poller(h).poll_once() == 1  # the failed event's comment comes on the next poll
        first, _ = await h.events_until(subs[0], lambda evs: any(e["type"] == "comment" for e in evs))
        assert [e["data"]["body"] for e in first if e["type"] == "comment"] == [f"on {events[0]}"]
