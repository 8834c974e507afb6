"""Source grouping (METHOD step 1): cluster source vectors, compare like with like, name groups.

* Clustering: Ward agglomerative clustering of the source vectors (``represent.py``), k given or
  chosen in ``k_range`` by the best silhouette (every k's silhouette is reported).
* Similarity: cosine of source vectors; a group's ``intra_similarity`` is the mean over pairs of
  its sources, ``inter_similarity[a][b]`` the mean over pairs (source of a, source of b), so the two
  compare like with like.
* Names: the role (code, prose, qa, notebook, config) that the members' mean line profile shows
  (``lines.role_name``), made unique with ``_2``, ``_3``... in order of group size; pinned sources
  are moved into the group named by their pin (created if needed).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from discovery.grouping.lines import role_name
from discovery.grouping.represent import SourceVectors
from mira.contracts import GroupInfo, GroupingArtifact

log = logging.getLogger(__name__)

GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def ward(x: np.ndarray, k: int) -> np.ndarray:
    """Ward labels for ``k`` clusters (deterministic; one cluster when k <= 1)."""
    if k <= 1 or len(x) <= 1:
        return np.zeros(len(x), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=min(k, len(x)), linkage="ward").fit_predict(x)


def silhouettes(x: np.ndarray, k_range: tuple[int, int]) -> dict[int, float]:
    """Silhouette (Euclidean, as Ward minimises) of the Ward clustering for each k in range."""
    from sklearn.metrics import silhouette_score

    lo, hi = max(2, k_range[0]), min(k_range[1], len(x) - 1)
    return {k: round(float(silhouette_score(x, ward(x, k))), 4) for k in range(lo, hi + 1)}


def choose(
    x: np.ndarray, k: int | None, k_range: tuple[int, int]
) -> tuple[np.ndarray, int, dict[int, float]]:
    """Labels, the k used and the silhouette per k (k given, else the best in ``k_range``)."""
    sil = silhouettes(x, k_range) if len(x) > 2 else {}
    if k is None:
        k = max(sil, key=lambda kk: (sil[kk], -kk)) if sil else 1
        log.info("k=%d by silhouette (%s)", k, ", ".join(f"{a}: {b:.3f}" for a, b in sil.items()))
    k = max(1, min(k, len(x)))
    return ward(x, k).astype(int), k, sil


def name_groups(profiles: Sequence[Mapping[str, float]], sizes: Sequence[int]) -> list[str]:
    """Role names made unique (largest group keeps the plain name)."""
    order = sorted(range(len(profiles)), key=lambda i: (-sizes[i], i))
    used: Counter[str] = Counter()
    names: dict[int, str] = {}
    for i in order:
        base = role_name(dict(profiles[i]))
        used[base] += 1
        names[i] = base if used[base] == 1 else f"{base}_{used[base]}"
    return [names[i] for i in range(len(profiles))]


def mean_profile(vec: SourceVectors, members: Sequence[str]) -> dict[str, float]:
    roles = vec.profiles[members[0]]
    return {r: round(float(np.mean([vec.profiles[s][r] for s in members])), 4) for r in roles}


def build_grouping(
    vec: SourceVectors,
    *,
    k: int | None,
    k_range: tuple[int, int],
    pins: Mapping[str, str] | None = None,
    embedder: str = "",
) -> GroupingArtifact:
    """Cluster sources, name the groups, apply ``pins`` (source -> group name), report."""
    pins = dict(pins or {})
    for src, name in pins.items():
        if not GROUP_NAME.match(name):
            raise ValueError(f"pin {src}={name}: group names must match {GROUP_NAME.pattern}")
    labels, k_used, sil = choose(vec.vectors, k, k_range)
    members = [
        [s for s, lab in zip(vec.sources, labels, strict=True) if lab == g] for g in range(k_used)
    ]
    members = [m for m in members if m]
    names = name_groups([mean_profile(vec, m) for m in members], [len(m) for m in members])
    assign = {s: names[i] for i, m in enumerate(members) for s in m}
    for src, name in pins.items():
        if src not in assign:
            log.warning("pinned source %s is not in the corpus", src)
            continue
        assign[src] = name
    return _artifact(vec, assign, pins, k, sil, embedder)


def _cosines(x: np.ndarray) -> np.ndarray:
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return np.asarray(unit @ unit.T)


def _artifact(
    vec: SourceVectors,
    assign: dict[str, str],
    pins: Mapping[str, str],
    k: int | None,
    sil: dict[int, float],
    embedder: str,
) -> GroupingArtifact:
    sims = _cosines(vec.vectors)
    idx = {s: i for i, s in enumerate(vec.sources)}
    groups = sorted(set(assign.values()))
    rows = {g: [idx[s] for s in sorted(assign) if assign[s] == g] for g in groups}
    infos = []
    for g in groups:
        block = sims[np.ix_(rows[g], rows[g])]
        iu = np.triu_indices(len(rows[g]), 1)
        intra = float(block[iu].mean()) if len(rows[g]) > 1 else 1.0
        srcs = [vec.sources[i] for i in rows[g]]
        infos.append(
            GroupInfo(
                name=g,
                sources=srcs,
                intra_similarity=round(intra, 4),
                pinned=sorted(s for s in srcs if s in pins),
                profile=mean_profile(vec, srcs),
            )
        )
    inter = {
        a: {b: round(float(sims[np.ix_(rows[a], rows[b])].mean()), 4) for b in groups if b != a}
        for a in groups
    }
    k_used = len({assign[s] for s in assign})
    return GroupingArtifact(
        embedder=embedder,
        representation=vec.description,
        k=k_used,
        k_selection="given" if k is not None else "silhouette",
        silhouette=sil.get(k_used),
        silhouette_by_k=sil,
        groups=infos,
        inter_similarity=inter,
        docs_per_source=dict(sorted(vec.docs.items())),
    )
