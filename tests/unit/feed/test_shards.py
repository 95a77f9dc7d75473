from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from polymarket_realtime.feed.shards import RefCounts, ShardAssigner, ShardChange


def test_refcounts_first_acquire_and_last_release() -> None:
    refs: RefCounts[str] = RefCounts()
    assert refs.acquire(["a", "b", "a"]) == ["a", "b"]  # duplicates in one call count once
    assert refs.acquire(["a", "c"]) == ["c"]
    assert refs.count("a") == 2
    assert refs.release(["a"]) == []
    assert refs.release(["a", "b"]) == ["a", "b"]
    assert refs.release(["a", "zzz"]) == []  # idempotent
    assert refs.wanted() == frozenset({"c"})
    assert "c" in refs and len(refs) == 1


def test_assign_fills_shards_up_to_limit() -> None:
    shards = ShardAssigner(3)
    changes = shards.assign([f"t{i}" for i in range(7)])
    assert changes == [
        ShardChange(0, add=("t0", "t1", "t2"), opened=True),
        ShardChange(1, add=("t3", "t4", "t5"), opened=True),
        ShardChange(2, add=("t6",), opened=True),
    ]
    assert shards.assign(["t6", "t7"]) == [ShardChange(2, add=("t7",))]


def test_gaps_are_reused_before_opening_a_shard() -> None:
    shards = ShardAssigner(2)
    shards.assign(["a", "b", "c", "d"])
    assert shards.unassign(["b", "x"]) == [ShardChange(0, remove=("b",))]
    assert shards.assign(["e", "f"]) == [ShardChange(0, add=("e",)), ShardChange(2, add=("f",), opened=True)]
    assert shards.unassign(["c", "d"]) == [ShardChange(1, remove=("c", "d"), closed=True)]
    assert shards.shard_ids() == [0, 2]
    # Shard 2 has room for one; then the lowest free id (1) is reused.
    assert shards.assign(["g", "h"]) == [ShardChange(1, add=("h",), opened=True), ShardChange(2, add=("g",))]
    assert shards.shard_of("h") == 1
    assert shards.assets_of(0) == ("a", "e")


def test_invalid_limit() -> None:
    with pytest.raises(ValueError):
        ShardAssigner(0)


@given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 40), max_size=12)), max_size=40))
def test_invariants_under_random_churn(ops: list[tuple[bool, list[int]]]) -> None:
    limit = 5
    shards = ShardAssigner(limit)
    wanted: set[str] = set()
    for add, ids in ops:
        names = [f"t{i}" for i in ids]
        if add:
            shards.assign(names)
            wanted |= set(names)
        else:
            shards.unassign(names)
            wanted -= set(names)
        held = [a for sid in shards.shard_ids() for a in shards.assets_of(sid)]
        assert sorted(held) == sorted(wanted)  # every wanted asset is on exactly one shard
        assert all(0 < len(shards.assets_of(sid)) <= limit for sid in shards.shard_ids())
        # Never more sockets than needed plus the gaps churn can leave.
        assert len(shards.shard_ids()) <= max(1, len(wanted))
