"""Self-anchored rubric discovery (METHOD step 2): cluster teacher proposals into anchors.

Only proposals that pass ``checks.py`` are clustered.  Rule for the number of anchors:
``min(K, number of distinct proposal names)`` (names compared after snake-casing), so a group never
gets two anchors from one repeated proposal.  Each anchor is named and described by the most
central proposal whose name is still free; high/low examples come from it and the three most
central members.  The version is a hash of the artifact's content, so the same
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


def build_anchors(
    proposals: Sequence[ProposedDimension], vectors: np.ndarray, labels: np.ndarray
) -> list[Anchor]:
    """One anchor per non-empty cluster, largest first.  The name and description come from the
    most central member whose snake-cased name no larger cluster took; a cluster whose every
    member name is taken repeats an anchor already made and is dropped (no ``_2`` suffixes)."""
    anchors: list[Anchor] = []
    used: set[str] = set()
    clusters = sorted(set(labels.tolist()), key=lambda c: (-int((labels == c).sum()), c))
    for c in clusters:
        idx = np.flatnonzero(labels == c)
        center = vectors[idx].mean(axis=0)
        order = idx[np.argsort(-(vectors[idx] @ center), kind="stable")]
        free = [int(i) for i in order if snake(proposals[int(i)].name) not in used]
        if not free:
            log.info(
                "cluster of %s repeats existing anchors: dropped",
                sorted({proposals[int(i)].name for i in order}),
            )
            continue
        best = proposals[free[0]]
        used.add(snake(best.name))
        top = [proposals[int(i)] for i in order[:3]]
        anchors.append(
            Anchor(
                name=snake(best.name),
                description=best.description,
                high=list(dict.fromkeys([best.high, *(p.high for p in top)])),
                low=list(dict.fromkeys([best.low, *(p.low for p in top)])),
                proposals=[proposals[int(i)].name for i in order],
                size=len(idx),
            )
        )
    return anchors


def content_version(
    group: str, teacher: str, prompt_hash: str, sample_ids: Sequence[str], anchors: Sequence[Anchor]
) -> str:
    blob = json.dumps(
        {
            "group": group,
            "teacher": teacher,
            "prompt_hash": prompt_hash,
            "sample_ids": list(sample_ids),
            "anchors": [a.model_dump(mode="json") for a in anchors],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_rubric(
    group: str,
    teacher: str,
    prompt_hash: str,
    sample_ids: Sequence[str],
    anchors: list[Anchor],
    counts: dict[str, int],
) -> RubricArtifact:
    return RubricArtifact(
        group=group,
        version=content_version(group, teacher, prompt_hash, sample_ids, anchors),
        teacher=teacher,
        prompt_hash=prompt_hash,
        sample_ids=list(sample_ids),
        anchors=anchors,
        counts=counts,
    )
