"""Source grouping (METHOD step 1): source centroids, k-means, similarity report, names.

Group names are deterministic: the dominant source kind (the part of the source name before the
first ``_``, e.g. ``code`` for ``code_python``) made unique with ``_2``, ``_3``...; pinned sources
are moved into the group named by their pin (created if needed).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping

import numpy as np

from mira.contracts import GroupInfo, GroupingArtifact

log = logging.getLogger(__name__)

GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def centroids(embeddings: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Sources (sorted) and their L2-normalised mean embedding."""
    sources = sorted(embeddings)
    rows = np.stack([embeddings[s].mean(axis=0) for s in sources]).astype(np.float64)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return sources, rows


def cluster(x: np.ndarray, k: int | None, k_range: tuple[int, int], seed: int
            ) -> tuple[np.ndarray, int, float | None]:
    """k-means labels; with ``k`` None choose k in ``k_range`` by best silhouette (cosine)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(x)
    if k is not None:
        k = max(1, min(k, n))
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(x) if k > 1 else np.zeros(n)
        sil = _silhouette(x, labels) if 1 < k < n else None
        return labels.astype(int), k, sil
    lo, hi = max(2, k_range[0]), min(k_range[1], n - 1)
    best: tuple[float, int, np.ndarray] | None = None
    for kk in range(lo, hi + 1):
        labels = KMeans(kk, n_init=10, random_state=seed).fit_predict(x)
        score = float(silhouette_score(x, labels, metric="cosine"))
        log.info("k=%d silhouette=%.3f", kk, score)
        if best is None or score > best[0] + 1e-9:
            best = (score, kk, labels)
    if best is None:  # too few sources to choose: one group
        return np.zeros(n, dtype=int), 1, None
    return best[2].astype(int), best[1], best[0]


def _silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(x, labels, metric="cosine"))


def _kind(source: str) -> str:
    head = re.sub(r"[^a-z0-9_]", "_", source.lower()).split("_")[0]
    return head if head and head[0].isalpha() else "g"


def name_groups(members: list[list[str]]) -> list[str]:
    """Deterministic names: dominant source kind, made unique in order of group size."""
    order = sorted(range(len(members)), key=lambda i: (-len(members[i]), sorted(members[i])))
    names: dict[int, str] = {}
    used: Counter[str] = Counter()
    for i in order:
        kinds = Counter(_kind(s) for s in members[i])
        base = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        used[base] += 1
        names[i] = base if used[base] == 1 else f"{base}_{used[base]}"
    return [names[i] for i in range(len(members))]


def build_grouping(
    embeddings: Mapping[str, np.ndarray], *, k: int | None, k_range: tuple[int, int] = (2, 8),
    pins: Mapping[str, str] | None = None, seed: int = 0, embedder: str = "all-MiniLM-L6-v2",
) -> GroupingArtifact:
    """Cluster sources and report similarities; ``pins`` maps source -> group name."""
    pins = dict(pins or {})
    for src, name in pins.items():
        if not GROUP_NAME.match(name):
            raise ValueError(f"pin {src}={name}: group names must match {GROUP_NAME.pattern}")
    sources, x = centroids(embeddings)
    labels, k_used, sil = cluster(x, k, k_range, seed)
    members: list[list[str]] = [[s for s, lab in zip(sources, labels, strict=True) if lab == g]
                                for g in range(k_used)]
    members = [m for m in members if m]
    names = name_groups(members)
    assign = {s: names[i] for i, m in enumerate(members) for s in m}
    for src, name in pins.items():
        if src not in assign:
            log.warning("pinned source %s is not in the corpus", src)
            continue
        assign[src] = name
    return _artifact(assign, dict(zip(sources, x, strict=True)), pins, embeddings, k_used, k, sil,
                     embedder)


def _artifact(assign: dict[str, str], cent: dict[str, np.ndarray], pins: Mapping[str, str],
              embeddings: Mapping[str, np.ndarray], k_used: int, k: int | None,
              sil: float | None, embedder: str) -> GroupingArtifact:
    groups = sorted(set(assign.values()))
    infos, gvec = [], {}
    for g in groups:
        srcs = sorted(s for s, name in assign.items() if name == g)
        m = np.stack([cent[s] for s in srcs])
        sims = m @ m.T
        iu = np.triu_indices(len(srcs), 1)
        intra = float(sims[iu].mean()) if len(srcs) > 1 else 1.0
        v = m.mean(axis=0)
        gvec[g] = v / max(float(np.linalg.norm(v)), 1e-12)
        infos.append(GroupInfo(name=g, sources=srcs, intra_similarity=round(intra, 4),
                               pinned=sorted(s for s in srcs if s in pins)))
    inter = {a: {b: round(float(gvec[a] @ gvec[b]), 4) for b in groups if b != a} for a in groups}
    return GroupingArtifact(
        embedder=embedder, k=len(groups), k_selection="given" if k is not None else "silhouette",
        silhouette=None if sil is None else round(sil, 4), groups=infos,
        inter_similarity=inter, docs_per_source={s: len(embeddings[s]) for s in sorted(assign)},
    )
