"""The push hub without sockets: dense seq, bounded replay, gaps, slow-client drops, watch callbacks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import anyio
import pytest

from polymarket_realtime.http.hub import Client, Hub


@pytest.fixture(autouse=True)
def _close_streams(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every client's receive stream at the end (an unclosed stream warns at garbage collection)."""
    made: list[Client] = []
    original = Hub.new_client

    def tracking(self: Hub, on_drop: Callable[[Client], None]) -> Client:
        client = original(self, on_drop)
        made.append(client)
        return client

    monkeypatch.setattr(Hub, "new_client", tracking)
    yield
    for client in made:
        client.close()
        client.receive.close()


def _drain(client: Client) -> list[dict[str, object]]:
    out = []
    while True:
        try:
            out.append(json.loads(client.receive.receive_nowait()))
        except anyio.WouldBlock:
            return out


def test_publish_numbers_densely_and_fans_out_once_encoded() -> None:
    hub = Hub(buffer_size=10, client_queue=10)
    a, b = hub.new_client(lambda _c: None), hub.new_client(lambda _c: None)
    assert hub.attach("x", a, None).needs_snapshot
    hub.attach("x", b, 0)
    assert [hub.publish("x", {"n": n}) for n in range(3)] == [1, 2, 3]
    assert [m["seq"] for m in _drain(a)] == [1, 2, 3] == [m["seq"] for m in _drain(b)]
    assert hub.published == 3 and hub.sent == 6
    assert hub.publish("y", 1) == 1  # seq is per channel


def test_replay_since_and_gap_when_the_buffer_rolled() -> None:
    hub = Hub(buffer_size=3, client_queue=10)
    for n in range(5):
        hub.publish("x", n)
    late = hub.new_client(lambda _c: None)
    replay = hub.attach("x", late, 3)
    assert not replay.needs_snapshot and [json.loads(t)["seq"] for t in replay.replay] == [4, 5]
    hub.detach("x", late)
    gap = hub.attach("x", late, 0)
    assert gap.needs_snapshot and gap.gap == (1, 2)  # 3..5 are still buffered
    restarted = hub.attach("x", hub.new_client(lambda _c: None), 99)
    assert restarted.needs_snapshot and restarted.gap == (6, 99)


def test_a_full_queue_drops_the_client_without_blocking_the_publisher() -> None:
    hub = Hub(client_queue=2)
    dropped: list[Client] = []
    slow = hub.new_client(dropped.append)
    fast = hub.new_client(lambda _c: None)
    hub.attach("x", slow, 0)
    hub.attach("x", fast, 0)
    hub.publish("x", 1)
    hub.publish("x", 2)
    _drain(fast)
    hub.publish("x", 3)  # slow's queue is full: it is dropped, fast still gets it
    assert dropped == [slow] and slow.dropped and hub.drops == 1
    assert hub.subscribers("x") == 1 and slow not in hub.clients
    assert [m["seq"] for m in _drain(fast)] == [3]


def test_watch_callbacks_on_first_and_last_subscriber() -> None:
    hub = Hub()
    seen: list[tuple[str, bool]] = []
    hub.watch_listeners.append(lambda name, on: seen.append((name, on)))
    a, b = hub.new_client(lambda _c: None), hub.new_client(lambda _c: None)
    hub.attach("market:1", a, None)
    hub.attach("market:1", b, None)
    hub.detach("market:1", a)
    hub.remove_client(b)
    assert seen == [("market:1", True), ("market:1", False)]


@pytest.mark.parametrize("size", [1, 5])
def test_buffer_is_bounded(size: int) -> None:
    hub = Hub(buffer_size=size)
    for n in range(20):
        hub.publish("x", n)
    assert len(hub.channel("x").buffer) == size and hub.channel("x").oldest() == 21 - size


def test_changes_skipped_while_nobody_listened_make_an_older_since_a_gap() -> None:
    hub = Hub()
    hub.publish("sessions", 1)
    assert not hub.listened("sessions")  # a source skips its work and the channel remembers it
    client = hub.new_client(lambda _c: None)
    skipped = hub.attach("sessions", client, 1)
    assert skipped.needs_snapshot and skipped.gap == (2, 2)
    hub.detach("sessions", client)
    with hub.joining("sessions"):  # a subscriber reading its snapshot counts as listening
        assert hub.listened("sessions")
    hub.publish("sessions", 2)
    fresh = hub.attach("sessions", client, 2)  # after the skip: an ordinary replay
    assert not fresh.needs_snapshot and fresh.replay == []


def test_a_since_from_another_epoch_is_a_gap_even_when_it_is_below_the_seq() -> None:
    old = Hub(buffer_size=10, client_queue=10)
    hub = Hub(buffer_size=10, client_queue=10)  # the restarted server
    assert old.epoch != hub.epoch and isinstance(hub.epoch, str)
    for n in range(5):
        hub.publish("x", n)
    assert json.loads(hub.channel("x").buffer[0][1])["epoch"] == hub.epoch
    client = hub.new_client(lambda _c: None)
    stale = hub.attach("x", client, 2, epoch=old.epoch)
    assert stale.needs_snapshot and stale.gap == (1, 5) and stale.replay == []
    hub.detach("x", client)
    same = hub.attach("x", client, 2, epoch=hub.epoch)
    assert not same.needs_snapshot and [json.loads(t)["seq"] for t in same.replay] == [3, 4, 5]
