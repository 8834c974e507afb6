import pytest

from scorer.offsets import OffsetTracker


def test_commit_only_contiguous_prefix() -> None:
    t: OffsetTracker[str, str] = OffsetTracker()
    toks = [t.start("p0", off) for off in (10, 11, 12, 13)]
    t.complete(toks[0], "a")
    t.complete(toks[2], "c")
    ready = t.pop_ready()
    assert ready["p0"].items == [(10, "a")] and ready["p0"].commit_offset == 11
    assert t.pop_ready() == {}  # 11 still unscored: never commit past it
    t.complete(toks[1], "b")
    ready = t.pop_ready()
    assert ready["p0"].items == [(11, "b"), (12, "c")] and ready["p0"].commit_offset == 13
    assert t.pending() == 1


def test_offset_gaps_are_fine() -> None:
    t: OffsetTracker[str, int] = OffsetTracker()
    a, b = t.start("p", 5), t.start("p", 9)  # transaction markers leave gaps
    t.complete(b, 2)
    t.complete(a, 1)
    r = t.pop_ready()["p"]
    assert r.items == [(5, 1), (9, 2)] and r.commit_offset == 10


def test_partitions_are_independent_and_selectable() -> None:
    t: OffsetTracker[str, int] = OffsetTracker()
    t.complete(t.start("a", 0), 1)
    t.complete(t.start("b", 0), 2)
    assert set(t.pop_ready(["a"])) == {"a"}
    assert set(t.pop_ready()) == {"b"}


def test_revoked_partition_ignores_late_completion() -> None:
    t: OffsetTracker[str, int] = OffsetTracker()
    old = t.start("p", 0)
    assert t.revoke(["p"]) == 1
    new = t.start("p", 0)  # re-assigned: a new epoch
    assert t.complete(old, 99) is False
    assert t.pop_ready() == {}
    assert t.complete(new, 1) is True
    assert t.pop_ready()["p"].items == [(0, 1)]


def test_complete_many_is_complete_for_each_and_skips_revoked() -> None:
    t: OffsetTracker[str, str] = OffsetTracker()
    old = t.start("gone", 0)
    t.revoke(["gone"])
    toks = [t.start("p", off) for off in (0, 1, 2)]
    assert t.complete_many([(toks[2], "c"), (old, "x"), (toks[0], "a")]) == 2
    assert t.pop_ready()["p"].items == [(0, "a")]  # 1 still unscored
    assert t.complete_many([(toks[1], "b")]) == 1
    assert t.pop_ready()["p"].items == [(1, "b"), (2, "c")]


def test_offsets_must_increase() -> None:
    t: OffsetTracker[str, int] = OffsetTracker()
    t.start("p", 3)
    with pytest.raises(ValueError):
        t.start("p", 3)
