"""``mira discover groups``: sample each source, build its vector, cluster, write grouping.json."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from discovery.embed import EMBEDDER_NAME, Embedder
from discovery.grouping.cluster import build_grouping
from discovery.grouping.features import features
from discovery.grouping.represent import SourceVectors, source_vectors
from discovery.rundir import RunDir, write_model
from discovery.sampling import balanced
from mira.contracts import Document, GroupingArtifact

log = logging.getLogger(__name__)

Corpus = Mapping[str, Sequence[Document]]


@dataclass(frozen=True)
class GroupOptions:
    k: int | None
    k_range: tuple[int, int]
    samples_per_source: int  # documents embedded per source
    feature_docs: int  # documents whose format features are averaged per source
    embed_weight: float
    seed: int


def represent(corpus: Corpus, opts: GroupOptions, embedder: Embedder | None) -> SourceVectors:
    """Format features of up to ``feature_docs`` and embeddings of up to ``samples_per_source``
    documents per source (the embedding sample is the start of the feature sample)."""
    feats: dict[str, np.ndarray] = {}
    embs: dict[str, np.ndarray] = {}
    n = max(opts.feature_docs, opts.samples_per_source)
    for src in sorted(corpus):
        docs = balanced(corpus, [src], n, opts.seed, "groups")
        if not docs:
            continue
        feats[src] = features([d.text for d in docs[: opts.feature_docs]])
        if embedder is not None and opts.embed_weight > 0:
            embs[src] = embedder.encode([d.text for d in docs[: opts.samples_per_source]])
    return source_vectors(feats, embs or None, opts.embed_weight, EMBEDDER_NAME)


def run_groups(
    corpus: Corpus,
    run: RunDir,
    opts: GroupOptions,
    pins: Mapping[str, str] | None = None,
    embedder: Embedder | None = None,
) -> GroupingArtifact:
    """Step 1: group the corpus's sources; writes ``grouping.json`` and the report entry."""
    if embedder is None and opts.embed_weight > 0:
        embedder = Embedder()
    vec = represent(corpus, opts, embedder)
    art = build_grouping(
        vec,
        k=opts.k,
        k_range=opts.k_range,
        pins=pins,
        embedder=EMBEDDER_NAME if opts.embed_weight > 0 else "",
    )
    write_model(run.grouping, art)
    run.update_report(
        "groups",
        {
            "k": art.k,
            "k_selection": art.k_selection,
            "silhouette": art.silhouette,
            "silhouette_by_k": {str(k): v for k, v in art.silhouette_by_k.items()},
            "representation": art.representation,
            "groups": {g.name: g.sources for g in art.groups},
        },
    )
    for g in art.groups:
        log.info("group %s (intra %.3f): %s", g.name, g.intra_similarity, ", ".join(g.sources))
    return art
