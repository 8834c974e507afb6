"""Source-conditioned retention: per-source score thresholds that meet a global token budget.

Rule (ours), on a calibration sample scored by the exported students:
1. Per source, sort documents by score (descending) and group equal scores into levels.  The
   candidate cuts keep the top j levels; pick the cut whose kept tokens are closest to
   ``budget * tokens(source)`` (token-weighted quantile; every source keeps the same share by
   default, so no source is starved).
2. Global fix-up: while moving one source's cut by one level brings the overall kept-token share
   closer to ``budget``, do the best such move.  This bounds the overall error by about half the
   largest boundary document, so on calibration data it lands within a point or two of the budget.
3. A threshold sits halfway between the lowest kept score and the next score below, so a tiny
   numeric difference between backends (1e-6) does not flip a calibration document.  Keeping all
   documents gives the lowest score itself; keeping none gives the highest score + 1.
Decision rule: accept iff ``score >= threshold``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class _Source:
    levels: np.ndarray  # distinct scores, descending
    cum: np.ndarray  # cum[j] = tokens kept when keeping the top j levels (cum[0] = 0)
    cut: int = 0

    def threshold(self) -> float:
        j, lv = self.cut, self.levels
        if j == 0:
            return float(lv[0]) + 1.0
        if j == len(lv):
            return float(lv[-1])
        return float((lv[j - 1] + lv[j]) / 2.0)


@dataclass
class Retention:
    """Thresholds and the kept-token report on the calibration sample."""

    budget: float
    thresholds: dict[str, float]
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    kept_share: float = 0.0

    def table(self) -> str:
        out = [f"{'source':28} {'docs':>6} {'tokens':>9} {'kept_docs':>9} {'kept_share':>10}"]
        for src, r in sorted(self.rows.items()):
            out.append(
                f"{src[:28]:28} {int(r['docs']):>6} {int(r['tokens']):>9} "
                f"{int(r['kept_docs']):>9} {r['kept_share']:>10.3f}"
            )
        out.append(
            f"{'ALL':28} {'':>6} {'':>9} {'':>9} {self.kept_share:>10.3f}"
            f"  (budget {self.budget:.3f})"
        )
        return "\n".join(out)


def _build(scores: np.ndarray, tokens: np.ndarray) -> _Source:
    levels, inverse = np.unique(-scores, return_inverse=True)
    per_level = np.bincount(inverse, weights=tokens, minlength=len(levels))
    return _Source(levels=-levels, cum=np.concatenate([[0.0], np.cumsum(per_level)]))


def _closest_cut(src: _Source, target: float) -> int:
    return int(np.argmin(np.abs(src.cum - target)))


def _fix_up(sources: dict[str, _Source], target: float) -> None:
    kept = sum(s.cum[s.cut] for s in sources.values())
    for _ in range(sum(len(s.levels) for s in sources.values())):
        best: tuple[float, str, int] | None = None
        for name, s in sources.items():
            for step in (-1, 1):
                j = s.cut + step
                if 0 <= j < len(s.cum):
                    err = abs(kept - s.cum[s.cut] + s.cum[j] - target)
                    if best is None or err < best[0]:
                        best = (err, name, j)
        if best is None or best[0] >= abs(kept - target) - 1e-9:
            return
        s = sources[best[1]]
        kept += s.cum[best[2]] - s.cum[s.cut]
        s.cut = best[2]


def source_thresholds(
    sources: Sequence[str],
    scores: Sequence[float],
    tokens: Sequence[int],
    budget: float,
    fix_up: bool = True,
) -> Retention:
    """Per-source thresholds meeting ``budget`` (a share of tokens in (0, 1])."""
    if not 0 < budget <= 1:
        raise ValueError(f"budget must be in (0, 1], got {budget}")
    if not len(sources) == len(scores) == len(tokens):
        raise ValueError("sources, scores and tokens must have the same length")
    by_src: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sources):
        by_src[s].append(i)
    sc, tk = np.asarray(scores, dtype=np.float64), np.asarray(tokens, dtype=np.float64)
    built = {s: _build(sc[idx], tk[idx]) for s, idx in by_src.items()}
    for b in built.values():
        b.cut = _closest_cut(b, budget * b.cum[-1])
    if fix_up:
        _fix_up(built, budget * float(tk.sum()))
    thresholds = {name: s.threshold() for name, s in built.items()}
    return report(sources, sc, tk, thresholds, budget)


def report(
    sources: Iterable[str],
    scores: np.ndarray,
    tokens: np.ndarray,
    thresholds: dict[str, float],
    budget: float,
) -> Retention:
    """Kept docs/tokens per source when accepting ``score >= thresholds[source]``."""
    rows: dict[str, dict[str, float]] = defaultdict(
        lambda: {"docs": 0, "tokens": 0, "kept_docs": 0, "kept_tokens": 0}
    )
    for src, s, t in zip(sources, scores, tokens, strict=True):
        r = rows[src]
        keep = s >= thresholds[src]
        r["docs"] += 1
        r["tokens"] += float(t)
        r["kept_docs"] += int(keep)
        r["kept_tokens"] += float(t) * keep
    for r in rows.values():
        r["kept_share"] = r["kept_tokens"] / r["tokens"] if r["tokens"] else 0.0
    total = sum(r["tokens"] for r in rows.values())
    kept = sum(r["kept_tokens"] for r in rows.values())
    return Retention(budget, thresholds, dict(rows), float(kept / total) if total else 0.0)
