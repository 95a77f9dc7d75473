from __future__ import annotations

import sys
from decimal import Decimal

import anyio
import pytest
from hypothesis import given, settings, strategies as st

from polymarket_realtime.model.events import LastTrade, LevelChange, PriceChange
from polymarket_realtime.routing.eventlog import EventLog, entry_to_dict

TOKEN = "1234567890"


def trade(i: int) -> LastTrade:
    return LastTrade(asset_id=TOKEN, market="0xabc", price=Decimal("0.5"), size=Decimal(i), ts_recv_ns=i)


def test_dense_sequence_from_one() -> None:
    log = EventLog(10)
    assert [log.append(trade(i)) for i in range(5)] == [1, 2, 3, 4, 5]
    read = log.read(0, 100)
    assert [e.seq for e in read.entries] == [1, 2, 3, 4, 5]
    assert read.next_seq == 5 and read.dropped == 0
    assert log.read(2, 2).entries[0].seq == 3
    assert log.read(2, 2).next_seq == 4
    assert log.read(5, 10) == ([], 5, 0)


def test_overflow_reports_dropped_events_to_a_slow_cursor() -> None:
    log = EventLog(4)
    for i in range(10):
        log.append(trade(i))
    assert log.first_seq == 7 and log.last_seq == 10 and len(log) == 4
    read = log.read(2, 100)
    assert [e.seq for e in read.entries] == [7, 8, 9, 10]
    assert read.dropped == 4  # seqs 3..6 were missed
    assert read.next_seq == 10
    # Events were overwritten before anyone read them.
    assert log.dropped_total == 6
    for i in range(4):
        log.append(trade(i))
    assert log.dropped_total == 6  # the overwritten ones had been read
    assert log.delivered == 14


def test_cursor_from_the_future_reanchors() -> None:
    log = EventLog(4)
    log.append(trade(1))
    assert log.read(99, 10) == ([], 1, 0)


def test_latest_and_entry_to_dict_with_extra() -> None:
    log = EventLog(8)
    change = PriceChange(
        asset_id=TOKEN,
        market="0xabc",
        changes=(LevelChange("BUY", Decimal("0.51"), Decimal("10")),),
        ts_event_ms=1700000000000,
        ts_recv_ns=5,
    )
    log.append(trade(1))
    log.append(change, {"book": {"best_bid": "0.51"}})
    (entry,) = log.latest(1)
    data = entry_to_dict(entry)
    assert data["seq"] == 2 and data["type"] == "price_change" and data["token_id"] == TOKEN
    assert data["ts_event"] == 1700000000000 and data["ts_recv"] == 5
    assert [list(c) for c in data["data"]["changes"]] == [["BUY", "0.51", "10"]]
    assert data["data"]["book"] == {"best_bid": "0.51"}


def test_entries_are_small() -> None:
    log = EventLog(4)
    log.append(trade(1))
    (entry,) = log.latest(1)
    # The event itself is shared between logs; the per-log cost is the entry tuple.
    assert sys.getsizeof(entry) < 100


@pytest.mark.anyio
async def test_wait_returns_at_once_when_data_exists() -> None:
    log = EventLog(4)
    log.append(trade(1))
    with anyio.fail_after(1):
        assert await log.wait(0, 10) is True
    assert await log.wait(1, 0) is False


@pytest.mark.anyio
async def test_long_poll_wakes_on_append() -> None:
    log = EventLog(4)
    woke: list[bool] = []

    async def poller() -> None:
        woke.append(await log.wait(0, 30))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poller)
            tg.start_soon(poller)
            await anyio.wait_all_tasks_blocked()
            log.append(trade(1))
    assert woke == [True, True]


@pytest.mark.anyio
async def test_long_poll_times_out_and_close_wakes() -> None:
    log = EventLog(4)
    with anyio.fail_after(5):
        assert await log.wait(0, 0.05) is False
        result: list[bool] = []
        async with anyio.create_task_group() as tg:

            async def poller() -> None:
                result.append(await log.wait(0, 30))

            tg.start_soon(poller)
            await anyio.wait_all_tasks_blocked()
            log.close()
    assert result == [False]


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=12),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("append"), st.integers(min_value=1, max_value=30)),
            st.tuples(st.just("read"), st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=15)),
        ),
        max_size=40,
    ),
)
def test_reads_match_a_reference_window(capacity: int, steps: list[tuple[int | str, ...]]) -> None:
    """Against a plain list of everything appended: same entries, next_seq and dropped counts."""
    log = EventLog(capacity)
    everything: list[int] = []  # seq i+1 carries the trade of size i+1
    for step in steps:
        if step[0] == "append":
            for _ in range(int(step[1])):
                everything.append(len(everything) + 1)
                assert log.append(trade(len(everything))) == len(everything)
            continue
        after, limit = int(step[1]), int(step[2])
        got = log.read(after, limit)
        last = len(everything)
        cursor = min(after, last)
        first_kept = max(1, last - capacity + 1)
        start = max(cursor + 1, first_kept)
        expected = list(range(start, min(last, start + limit - 1) + 1))
        assert [e.seq for e in got.entries] == expected
        assert [e.event.size for e in got.entries] == [Decimal(s) for s in expected]  # type: ignore[union-attr]
        assert got.dropped == start - (cursor + 1)
        assert got.next_seq == (expected[-1] if expected else cursor + got.dropped)
    assert len(log) == min(len(everything), capacity)
