"""Source grouping against the corpus's five format families (adjusted Rand index).

    .venv/bin/mira corpus build --out /tmp/c3000.jsonl --max-docs 3000 --seed 1
    .venv/bin/python bench/grouping.py --corpus /tmp/c3000.jsonl [--write]

Compares, in the same run and on the same samples:

* baseline: the text-only grouping mira used before (all-MiniLM-L6-v2 source centroids, k-means,
  k by cosine silhouette in 2..8), with k chosen and with k = 5;
* mira's grouping (``discovery.grouping``: format features + down-weighted topic embedding, Ward,
  k by silhouette in ``--k-min``..8), with k chosen and with k = 5.

The grouping never reads ``meta["kind"]``; only this benchmark does, to score it.  ``--write``
replaces (or appends) this benchmark's section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import commit, machine  # noqa: E402

TITLE = "## Source grouping vs the five format families (bench/grouping.py"


def families(corpus: Any) -> dict[str, str]:
    """Source -> its documents' most common ``meta.kind`` (the reference, never shown to mira)."""
    return {
        s: Counter(str(d.meta.get("kind")) for d in docs).most_common(1)[0][0]
        for s, docs in corpus.items()
    }


def baseline(embeddings: dict[str, np.ndarray], k: int | None, seed: int) -> dict[str, int]:
    """The former text-only grouping: k-means on unit centroids, cosine silhouette over 2..8."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    sources = sorted(embeddings)
    x = np.stack([embeddings[s].mean(axis=0) for s in sources]).astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    best: tuple[float, np.ndarray] | None = None
    for kk in [k] if k else range(2, 9):
        labels = KMeans(kk, n_init=10, random_state=seed).fit_predict(x)
        score = float(silhouette_score(x, labels, metric="cosine"))
        if best is None or score > best[0]:
            best = (score, labels)
    assert best is not None
    return dict(zip(sources, best[1].tolist(), strict=True))


def ari(truth: dict[str, str], assign: dict[str, Any]) -> float:
    from sklearn.metrics import adjusted_rand_score

    sources = sorted(assign)
    return float(adjusted_rand_score([truth[s] for s in sources], [assign[s] for s in sources]))


def like_with_like(art: Any) -> tuple[float, float]:
    """Mean intra-group and mean inter-group source similarity (both mean pairwise cosines)."""
    intra = [g.intra_similarity for g in art.groups if len(g.sources) > 1]
    inter = [v for row in art.inter_similarity.values() for v in row.values()]
    return float(np.mean(intra)), float(np.mean(inter))


def run(corpus_path: Path, k_min: int, seed: int) -> dict[str, Any]:
    from discovery.corpus import balanced, load_corpus
    from discovery.grouping.cluster import build_grouping
    from discovery.grouping.embed import Embedder
    from discovery.grouping.stage import represent
    from mira.settings import MiraSettings

    settings = MiraSettings()
    corpus = load_corpus([corpus_path], settings.document).by_source
    truth = families(corpus)
    ds = settings.discovery.model_copy(update={"k_min": k_min, "k_max": 8, "seed": seed})
    emb = Embedder()
    started = time.perf_counter()
    vec = represent(corpus, ds, emb)
    rep_s = time.perf_counter() - started
    # the baseline embeds exactly the documents mira's representation embedded
    embeddings = {
        s: emb.encode(
            [d.text for d in balanced(corpus, [s], ds.samples_per_source, seed, "groups")]
        )
        for s in vec.sources
    }
    out: dict[str, Any] = {
        "sources": len(vec.sources),
        "docs": sum(map(len, corpus.values())),
        "families": dict(Counter(truth.values())),
        "represent_seconds": round(rep_s, 1),
    }
    for label, k in (("auto", None), ("k5", 5)):
        base = baseline(embeddings, k, seed)
        art = build_grouping(vec, k=k, k_range=(ds.k_min, ds.k_max))
        intra, inter = like_with_like(art)
        out[label] = {
            "baseline_k": len(set(base.values())),
            "baseline_ari": round(ari(truth, base), 3),
            "k": art.k,
            "ari": round(ari(truth, art.source_to_group()), 3),
            "silhouette_by_k": art.silhouette_by_k,
            "intra": round(intra, 3),
            "inter": round(inter, 3),
            "groups": {g.name: g.sources for g in art.groups},
        }
    out["silhouette_2_8"] = build_grouping(vec, k=None, k_range=(2, 8)).silhouette_by_k
    return out


def section(res: dict[str, Any], corpus: Path, k_min: int) -> str:
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    a, f = res["auto"], res["k5"]
    sil = ", ".join(f"{k}: {v:.3f}" for k, v in res["silhouette_2_8"].items())
    groups = "\n".join(f"| `{g}` | {', '.join(s)} |" for g, s in a["groups"].items())
    fam = ", ".join(f"{k} {v}" for k, v in sorted(res["families"].items()))
    return f"""{TITLE}, {date})

Machine: {machine()}; commit {commit()}. Corpus `{corpus.name}` ({res["docs"]} documents,
{res["sources"]} sources; families by `meta.kind`: {fam}). Adjusted Rand index (ARI) of the
source partition against the families; 1 = identical, 0 = chance.

| grouping | k | ARI |
|---|---:|---:|
| baseline: text-only MiniLM centroids, k-means, k by silhouette | {a["baseline_k"]} | \
{a["baseline_ari"]:.3f} |
| baseline: text-only MiniLM centroids, k-means, k = 5 | 5 | {f["baseline_ari"]:.3f} |
| **mira: format features + 0.3 x topic, Ward, k by silhouette in {k_min}..8** | {a["k"]} | \
**{a["ari"]:.3f}** |
| **mira: format features + 0.3 x topic, Ward, k = 5** | 5 | **{f["ari"]:.3f}** |

Silhouette of mira's representation per k (Ward): {sil}. k = 2 (code vs everything else) always
scores highest, which is why the automatic range starts at {k_min} (`--k-min`). Like with like
(mean pairwise source cosine in the representation): within groups {a["intra"]:.3f}, across
groups {a["inter"]:.3f}. Representation of {res["sources"]} sources: {res["represent_seconds"]} s.
Groups chosen automatically (names from the members' mean line roles):

| group | sources |
|---|---|
{groups}
"""


def write(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text("utf-8")
    start = doc.find(TITLE)
    if start >= 0:
        end = doc.find("\n## ", start + 1)
        doc = doc[:start] + text + (doc[end + 1 :] if end >= 0 else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc, "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--k-min", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    res = run(args.corpus, args.k_min, args.seed)
    print(json.dumps(res, indent=1))
    text = section(res, args.corpus, args.k_min)
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
