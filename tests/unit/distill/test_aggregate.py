import math

import numpy as np
import pytest

from discovery.distill.aggregate import aggregate, reliability_weights


def test_weights_are_clipped_spearman_normalised() -> None:
    assert reliability_weights([0.6, -0.2, 0.2, 0.0]) == pytest.approx([0.75, 0, 0.25, 0])


def test_nan_counts_as_zero_and_all_zero_is_uniform() -> None:
    assert reliability_weights([math.nan, 0.5]) == pytest.approx([0.0, 1.0])
    assert reliability_weights([-0.1, 0.0, math.nan]) == pytest.approx([1 / 3] * 3)
    with pytest.raises(ValueError):
        reliability_weights([])


def test_aggregate_is_weighted_sum() -> None:
    a = np.array([[1.0, 3.0], [5.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(aggregate(a, [0.25, 0.75]), [2.5, 1.25])
    with pytest.raises(ValueError):
        aggregate(a, [1.0])
