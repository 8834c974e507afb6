"""Step 1 of the method: each source's vector (format features + down-weighted topic embedding),
Ward clustering, grouping.json."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from discovery.corpus import balanced
from discovery.grouping.cluster import build_grouping
from discovery.grouping.embed import EMBEDDER_NAME, Embedder
from discovery.grouping.features import features
from discovery.grouping.represent import SourceVectors, source_vectors
from discovery.rundir import RunDir, write_model
from mira.contracts import Document, GroupingArtifact
from mira.settings import DiscoverySettings

log = logging.getLogger(__name__)

Corpus = Mapping[str, Sequence[Document]]


def represent(corpus: Corpus, ds: DiscoverySettings, embedder: Embedder | None) -> SourceVectors:
    """Format features of up to ``ds.feature_docs`` and embeddings of up to
    ``ds.samples_per_source`` documents per source (the embedded ones start the feature sample);
    no embedder or ``ds.embed_weight == 0``: format only."""
    feats: dict[str, np.ndarray] = {}
    embs: dict[str, np.ndarray] = {}
    use_topic = embedder is not None and ds.embed_weight > 0
    for src in sorted(corpus):
        docs = balanced(
            corpus, [src], max(ds.feature_docs, ds.samples_per_source), ds.seed, "groups"
        )
        if not docs:
            continue
        feats[src] = features([d.text for d in docs[: ds.feature_docs]])
        if use_topic and embedder is not None:
            embs[src] = embedder.encode([d.text for d in docs[: ds.samples_per_source]])
    if not feats:
        raise ValueError("the corpus holds no non-empty documents")
    return source_vectors(feats, embs or None, ds.embed_weight if use_topic else 0.0, EMBEDDER_NAME)


def run_groups(
    corpus: Corpus,
    run: RunDir,
    ds: DiscoverySettings,
    pins: Mapping[str, str],
    embedder: Embedder | None,
) -> GroupingArtifact:
    """Group the corpus's sources; writes ``grouping.json`` and the report entry."""
    vec = represent(corpus, ds, embedder)
    art = build_grouping(
        vec,
        k=ds.k,
        k_range=(ds.k_min, ds.k_max),
        pins=pins,
        embedder=EMBEDDER_NAME if ds.embed_weight > 0 else "",
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
