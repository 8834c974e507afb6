import math

import numpy as np
import pytest

from discovery.distill.aggregate import aggregate, reliability_weights, spearman_interval


def test_interval_narrows_with_evidence() -> None:
    lo8, hi8 = spearman_interval(0.5, 8)
    lo200, hi200 = spearman_interval(0.5, 200)
    assert lo8 < 0 < 0.5 < hi8 and 0.35 < lo200 < 0.5 < hi200 < 0.65
    assert spearman_interval(0.3, 3) == (-1.0, 1.0)
    assert spearman_interval(math.nan, 50) == (-1.0, 1.0)
    assert spearman_interval(1.0, 50)[1] <= 1.0


def test_weights_follow_the_lower_bound() -> None:
    w = reliability_weights([0.8, 0.8, 0.0, -0.3], [200, 20, 200, 200])
    assert w[0] > w[1] > 0 and w[2] == w[3] == 0 and sum(w) == pytest.approx(1)
    low = [spearman_interval(0.8, n)[0] for n in (200, 20)]
    assert w[0] / w[1] == pytest.approx(low[0] / low[1])


def test_little_evidence_means_uniform_weights() -> None:
    assert reliability_weights([0.7, 0.2, 0.5], [6, 6, 6]) == pytest.approx([1 / 3] * 3)
    assert reliability_weights([math.nan, 0.9], [100, 100])[0] == 0.0
    with pytest.raises(ValueError):
        reliability_weights([], [])
    with pytest.raises(ValueError):
        reliability_weights([0.5], [10, 10])


def test_aggregate_is_weighted_sum() -> None:
    a = np.array([[1.0, 3.0], [5.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(aggregate(a, [0.25, 0.75]), [2.5, 1.25])
    with pytest.raises(ValueError):
        aggregate(a, [1.0])
