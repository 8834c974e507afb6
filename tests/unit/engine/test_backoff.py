import random

import pytest

from mira.engine.backoff import Backoff


def test_grows_and_caps_without_jitter() -> None:
    b = Backoff(0.1, 1.0, 2.0, jitter=False)
    assert [round(b.next_delay(), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next_delay() == 0.1


def test_jitter_stays_within_half_to_full_ceiling() -> None:
    b = Backoff(0.1, 5.0, rng=random.Random(0))
    for attempt in range(10):
        ceiling = min(5.0, 0.1 * 2**attempt)
        assert ceiling / 2 <= b.next_delay() <= ceiling


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)
