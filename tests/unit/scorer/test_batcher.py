from scorer.batcher import MicroBatcher


def test_full_batch_leaves_immediately() -> None:
    b: MicroBatcher[int] = MicroBatcher(max_size=3, max_wait_s=1.0)
    assert b.add("code", 1, now=0.0) is None
    assert b.add("code", 2, now=0.1) is None
    full = b.add("code", 3, now=0.2)
    assert full is not None and full.items == [1, 2, 3] and full.group == "code"
    assert len(b) == 0 and b.next_deadline() is None


def test_groups_are_batched_separately() -> None:
    b: MicroBatcher[str] = MicroBatcher(max_size=2, max_wait_s=1.0)
    b.add("code", "a", 0.0)
    b.add("docs", "x", 0.0)
    full = b.add("code", "b", 0.0)
    assert full is not None and full.items == ["a", "b"]
    assert len(b) == 1


def test_partial_batch_due_after_max_wait_of_its_oldest_item() -> None:
    b: MicroBatcher[int] = MicroBatcher(max_size=10, max_wait_s=0.02)
    b.add("code", 1, now=1.0)
    b.add("docs", 2, now=1.015)
    assert b.next_deadline() == 1.02
    assert b.due(now=1.019) == []
    ripe = b.due(now=1.02)
    assert [x.group for x in ripe] == ["code"]
    assert [x.group for x in b.due(now=1.04)] == ["docs"]


def test_drain_returns_everything() -> None:
    b: MicroBatcher[int] = MicroBatcher(max_size=10, max_wait_s=5)
    for i in range(5):
        b.add("g" + str(i % 2), i, 0.0)
    drained = b.drain()
    assert sorted(x for batch in drained for x in batch.items) == [0, 1, 2, 3, 4]
    assert len(b) == 0


def test_bad_sizes_rejected() -> None:
    import pytest

    with pytest.raises(ValueError):
        MicroBatcher(0, 1.0)
    with pytest.raises(ValueError):
        MicroBatcher(1, -1.0)
