import numpy as np
import pytest

from discovery.export.thresholds import report, source_thresholds


def synthetic(
    seed: int, n: int = 800, sources: int = 21
) -> tuple[list[str], list[float], list[int]]:
    rng = np.random.default_rng(seed)
    src = [f"s{rng.integers(sources)}" for _ in range(n)]
    shift = {f"s{i}": rng.normal(0, 2) for i in range(sources)}  # sources differ in level
    scores = [float(round(rng.normal(shift[s], 1), 1)) for s in src]  # ties on purpose
    tokens = [int(t) + 1 for t in rng.lognormal(5, 1.5, n)]  # heavy-tailed lengths
    return src, scores, tokens


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("budget", [0.1, 0.3, 0.5, 0.8])
def test_kept_token_share_hits_the_budget_within_two_points(seed: int, budget: float) -> None:
    src, scores, tokens = synthetic(seed)
    r = source_thresholds(src, scores, tokens, budget)
    assert abs(r.kept_share - budget) <= 0.02
    # the report is what "accept iff score >= threshold" really keeps
    kept = sum(t for s, x, t in zip(src, scores, tokens, strict=True) if x >= r.thresholds[s])
    assert kept / sum(tokens) == pytest.approx(r.kept_share)


def test_every_source_keeps_about_the_same_share() -> None:
    src, scores, tokens = synthetic(0, n=4000, sources=5)
    r = source_thresholds(src, scores, tokens, 0.5)
    shares = [row["kept_share"] for row in r.rows.values()]
    assert max(shares) - min(shares) < 0.1  # per-source levels differ, shares do not


def test_threshold_sits_between_kept_and_rejected_scores() -> None:
    r = source_thresholds(["a"] * 4, [4.0, 3.0, 2.0, 1.0], [10, 10, 10, 10], 0.5)
    assert r.thresholds["a"] == 2.5 and r.kept_share == 0.5
    all_kept = source_thresholds(["a"] * 2, [4.0, 3.0], [10, 10], 1.0)
    assert all_kept.thresholds["a"] == 3.0 and all_kept.kept_share == 1.0


def test_ties_are_kept_or_dropped_together() -> None:
    r = source_thresholds(["a"] * 4, [2.0, 2.0, 2.0, 1.0], [10, 10, 10, 10], 0.5)
    assert r.rows["a"]["kept_docs"] in (0, 3)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        source_thresholds(["a"], [1.0], [1], 0.0)
    with pytest.raises(ValueError):
        source_thresholds(["a"], [1.0, 2.0], [1], 0.5)


def test_report_table_lists_sources_and_total() -> None:
    r = report(["a", "b"], np.array([1.0, 2.0]), np.array([10, 30]), {"a": 0.0, "b": 5.0}, 0.5)
    assert r.kept_share == 0.25 and "ALL" in r.table() and "b" in r.rows
