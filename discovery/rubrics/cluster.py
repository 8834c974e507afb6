"""Self-anchored rubric discovery (METHOD step 2): cluster teacher proposals into anchors.

Rule for the number of anchors: ``min(K, number of distinct proposal names)`` (names compared
after snake-casing), so a group never gets two anchors from one repeated proposal.  Each anchor is
named and described by the proposal closest to its cluster centroid; high/low examples come from
the three most central members.  The version is a hash of the artifact's content, so the same
inputs always give the same version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence

import numpy as np

from mira.contracts import Anchor, ProposedDimension, RubricArtifact

log = logging.getLogger(__name__)


def snake(name: str, max_len: int = 40) -> str:
    """A safe anchor name: ``[a-z][a-z0-9_]*``."""
    s = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:max_len].strip("_")
    if not s or not s[0].isalpha():
        s = "a_" + s if s else "anchor"
    return s


def proposal_text(p: ProposedDimension) -> str:
    return f"{p.name}: {p.description}"


def choose_k(proposals: Sequence[ProposedDimension], k: int) -> int:
    return max(1, min(k, len({snake(p.name) for p in proposals})))


def cluster_proposals(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Cluster labels for unit-norm proposal vectors (k-means, deterministic)."""
    if k <= 1 or len(vectors) <= 1:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=10, random_state=seed).fit_predict(vectors).astype(int)


def build_anchors(proposals: Sequence[ProposedDimension], vectors: np.ndarray,
                  labels: np.ndarray) -> list[Anchor]:
    """One anchor per non-empty cluster, largest first; names made unique."""
    anchors: list[Anchor] = []
    used: dict[str, int] = {}
    clusters = sorted(set(labels.tolist()), key=lambda c: (-int((labels == c).sum()), c))
    for c in clusters:
        idx = np.flatnonzero(labels == c)
        center = vectors[idx].mean(axis=0)
        order = idx[np.argsort(-(vectors[idx] @ center), kind="stable")]
        best = proposals[int(order[0])]
        name = snake(best.name)
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{name}_{used[name]}"
        top = [proposals[int(i)] for i in order[:3]]
        anchors.append(Anchor(
            name=name, description=best.description,
            high=list(dict.fromkeys(p.high for p in top)),
            low=list(dict.fromkeys(p.low for p in top)),
            proposals=[proposals[int(i)].name for i in order], size=len(idx),
        ))
    return anchors


def content_version(group: str, teacher: str, prompt_hash: str, sample_ids: Sequence[str],
                    anchors: Sequence[Anchor]) -> str:
    blob = json.dumps({
        "group": group, "teacher": teacher, "prompt_hash": prompt_hash,
        "sample_ids": list(sample_ids), "anchors": [a.model_dump(mode="json") for a in anchors],
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_rubric(group: str, teacher: str, prompt_hash: str, sample_ids: Sequence[str],
                anchors: list[Anchor], counts: dict[str, int]) -> RubricArtifact:
    return RubricArtifact(
        group=group, version=content_version(group, teacher, prompt_hash, sample_ids, anchors),
        teacher=teacher, prompt_hash=prompt_hash, sample_ids=list(sample_ids), anchors=anchors,
        counts=counts,
    )
