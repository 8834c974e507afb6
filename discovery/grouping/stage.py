"""Step 1 of the method: embed a sample per source, cluster source centroids (grouping.json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from discovery.corpus import balanced
from discovery.grouping.cluster import build_grouping
from discovery.grouping.embed import EMBEDDER_NAME, Embedder
from discovery.rundir import RunDir, write_model
from mira.contracts import Document, GroupingArtifact
from mira.settings import DiscoverySettings


def run_groups(corpus: Mapping[str, Sequence[Document]], run: RunDir, ds: DiscoverySettings,
               pins: Mapping[str, str], embedder: Embedder) -> GroupingArtifact:
    """Embed ``ds.samples_per_source`` documents per source, cluster, write grouping.json."""
    vectors = {}
    for src in sorted(corpus):
        docs = balanced(corpus, [src], ds.samples_per_source, ds.seed, "groups")
        if docs:
            vectors[src] = embedder.encode([d.text for d in docs])
    if not vectors:
        raise ValueError("the corpus holds no non-empty documents")
    art = build_grouping(vectors, k=ds.k, k_range=(ds.k_min, ds.k_max), pins=pins, seed=ds.seed,
                         embedder=EMBEDDER_NAME)
    write_model(run.grouping, art)
    run.update_report("groups", {"k": art.k, "silhouette": art.silhouette,
                                 "groups": {g.name: g.sources for g in art.groups}})
    return art
