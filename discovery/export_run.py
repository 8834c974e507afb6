"""``mira export``: students of a run -> ONNX (parity-checked) -> calibrated thresholds -> repo."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from discovery.export import (
    MANIFEST_FILE,
    ExportOptions,
    StagedModel,
    atomic_write,
    checksums,
    install_tokenizer,
    next_version,
    publish,
    stage_version,
    staging_dir,
)
from discovery.thresholds import Retention, source_thresholds
from mira.contracts import (
    Document,
    GroupingArtifact,
    GroupModel,
    RepositoryManifest,
    StudentCard,
)
from scorer.files import iter_records
from scorer.ort_backend import OrtBackend
from scorer.tokenize import BatchTokenizer, approx_tokens
from scorer.validate import Invalid, parse_document

log = logging.getLogger(__name__)


def load_cards(run_dir: Path) -> dict[str, StudentCard]:
    cards = {}
    for path in sorted((run_dir / "students").glob("*/student.json")):
        card = StudentCard.model_validate_json(path.read_text("utf-8"))
        cards[card.group] = card
    if not cards:
        raise FileNotFoundError(f"no students in {run_dir / 'students'}: run `mira distill` first")
    return cards


def sample_corpus(corpus: Path, n: int, seed: int, max_bytes: int = 1 << 20) -> list[Document]:
    """Reservoir sample of ``n`` valid documents (invalid lines are counted and logged)."""
    rng = np.random.default_rng(seed)
    sample: list[Document] = []
    seen = bad = 0
    for origin, raw in iter_records(corpus):
        doc = parse_document(raw, max_bytes)
        if isinstance(doc, Invalid):
            bad += 1
            log.warning("calibration: skipping %s: %s %s", origin, doc.reason.value, doc.detail)
            continue
        seen += 1
        if len(sample) < n:
            sample.append(doc)
        else:
            j = int(rng.integers(0, seen))
            if j < n:
                sample[j] = doc
    log.info("calibration sample: %d of %d valid documents (%d invalid)", len(sample), seen, bad)
    return sample


def source_map(grouping: GroupingArtifact, cards: dict[str, StudentCard]
               ) -> tuple[dict[str, str], str]:
    """source -> group for groups with a student, and the fallback group (largest by docs)."""
    size: Counter[str] = Counter()
    for g in grouping.groups:
        size[g.name] = sum(grouping.docs_per_source.get(s, 0) for s in g.sources)
    fallback = max(cards, key=lambda g: (size[g], g))
    mapping = {}
    for src, group in grouping.source_to_group().items():
        if group not in cards:
            log.warning("group %s has no student: its source %s goes to fallback %s",
                        group, src, fallback)
            group = fallback
        mapping[src] = group
    return mapping, fallback


def stage_models(stage: Path, repo: Path, cards: dict[str, StudentCard], run_dir: Path,
                 tok: BatchTokenizer, texts: list[str], opts: ExportOptions) -> list[StagedModel]:
    from discovery.onnx_export import export_onnx, parity
    from discovery.student import load_student

    ids, mask = tok.encode(texts[: opts.parity_docs] or ["mira parity sample"])
    staged = []
    for group, card in cards.items():
        model = load_student(run_dir / "students" / group / "student.safetensors", card.weights)
        name, version = f"mira_{group}", next_version(repo / f"mira_{group}")
        onnx_path = stage / f"{name}.onnx"
        export_onnx(model, onnx_path, ids[:2], mask[:2])
        diff = parity(model, onnx_path, ids, mask, opts.parity_tol)
        folder = stage_version(stage, name, version, onnx_path)
        staged.append(StagedModel(group, name, version, len(card.anchors), folder, diff,
                                  checksums(f"{name}/{version}", folder)))
    return staged


def score_docs(docs: list[Document], groups: list[str], tok: BatchTokenizer,
               backend: OrtBackend, batch: int = 32) -> np.ndarray:
    scores = np.zeros(len(docs), dtype=np.float32)
    for group in sorted(set(groups)):
        idx = [i for i, g in enumerate(groups) if g == group]
        for s in range(0, len(idx), batch):
            part = idx[s:s + batch]
            ids, mask = tok.encode([docs[i].text for i in part])
            scores[part] = backend.score(f"mira_{group}", ids, mask)[1]
    return scores


def calibrate(docs: list[Document], mapping: dict[str, str], fallback: str,
              tok: BatchTokenizer, backend: OrtBackend, budget: float
              ) -> tuple[Retention, float | None, list[dict[str, object]]]:
    """Score the sample, then per-source thresholds + a default for unseen sources."""
    if not docs:
        raise ValueError("the calibration corpus has no valid documents")
    groups = [mapping.get(d.source, fallback) for d in docs]
    scores = score_docs(docs, groups, tok, backend)
    tokens = [approx_tokens(d.text) for d in docs]
    retention = source_thresholds([d.source for d in docs], scores.tolist(), tokens, budget)
    fb = [i for i, g in enumerate(groups) if g == fallback]
    default = None
    if fb:
        pooled = source_thresholds(["*"] * len(fb), [float(scores[i]) for i in fb],
                                   [tokens[i] for i in fb], budget, fix_up=False)
        default = pooled.thresholds["*"]
    rows: list[dict[str, object]] = [
        {"id": d.id, "source": d.source, "group": g, "score": float(s), "tokens": t,
         "decision": "accept" if s >= retention.thresholds[d.source] else "reject"}
        for d, g, s, t in zip(docs, groups, scores, tokens, strict=True)]
    return retention, default, rows


def build_manifest(cards: dict[str, StudentCard], staged: list[StagedModel],
                   mapping: dict[str, str], fallback: str, retention: Retention,
                   default: float | None, tokenizer: str, budget: float) -> RepositoryManifest:
    groups = {}
    for sm in staged:
        card = cards[sm.group]
        groups[sm.group] = GroupModel(
            model=sm.model, version=sm.version, anchors=card.anchors, weights=card.weights,
            rubric_version=card.rubric_version, files=sm.files,
            agreement={a: m.spearman for a, m in card.metrics.items()})
    first = next(iter(cards.values()))
    return RepositoryManifest(
        groups=groups, source_groups=mapping, fallback_group=fallback,
        thresholds=retention.thresholds, default_threshold=default, budget=budget,
        tokenizer=tokenizer, max_length=first.max_length, max_chars=first.max_chars,
        rubric_versions={g: c.rubric_version for g, c in cards.items()},
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def export_run(run_dir: Path, corpus: Path, repo: Path, opts: ExportOptions
               ) -> tuple[RepositoryManifest, Retention]:
    """Export every student of ``run_dir`` into ``repo`` and calibrate on ``corpus``."""
    from discovery.student import backbone_dir

    cards = load_cards(run_dir)
    shapes = {(c.max_length, c.max_chars) for c in cards.values()}
    if len(shapes) != 1:
        raise ValueError(f"students disagree on (max_length, max_chars): {sorted(shapes)}")
    max_length, max_chars = shapes.pop()
    grouping = GroupingArtifact.model_validate_json((run_dir / "grouping.json").read_text("utf-8"))
    mapping, fallback = source_map(grouping, cards)
    tok = BatchTokenizer(backbone_dir() / "tokenizer.json", max_length, max_chars)
    docs = sample_corpus(corpus, opts.calibration_docs, opts.seed)
    stage = staging_dir(repo)
    try:
        staged = stage_models(stage, repo, cards, run_dir, tok, [d.text for d in docs], opts)
        backend = OrtBackend({sm.model: sm.staged / "model.onnx" for sm in staged})
        retention, default, rows = calibrate(docs, mapping, fallback, tok, backend, opts.budget)
        publish(repo, staged, opts)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    tokenizer = install_tokenizer(repo, backbone_dir() / "tokenizer.json")
    manifest = build_manifest(cards, staged, mapping, fallback, retention, default, tokenizer,
                              opts.budget)
    atomic_write(repo / MANIFEST_FILE, (manifest.model_dump_json(indent=2) + "\n").encode())
    write_reports(run_dir / "export", staged, retention, rows, repo)
    return manifest, retention


def write_reports(out: Path, staged: list[StagedModel], retention: Retention,
                  rows: list[dict[str, object]], repo: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    summary = {"repo": str(repo), "budget": retention.budget, "kept_share": retention.kept_share,
               "per_source": retention.rows, "thresholds": retention.thresholds,
               "models": {sm.model: {"version": sm.version, "parity_max_abs_diff": sm.parity}
                          for sm in staged}}
    (out / "export.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    with (out / "calibration.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
