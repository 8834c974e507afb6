"""``mira export``: students of a run -> ONNX (parity-checked) -> calibrated thresholds -> repo."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from discovery.export.calibrate import Calibration, calibrate, sample_corpus
from discovery.export.repository import (
    StagedModel,
    atomic_write,
    checksums,
    install_tokenizer,
    next_version,
    publish,
    stage_version,
    staging_dir,
)
from mira.contracts import (
    GroupingArtifact,
    GroupModel,
    RepositoryManifest,
    StudentCard,
    load_artifact,
)
from mira.engine.backend import ModelRef
from mira.engine.build import retry_policy
from mira.engine.engine import Engine
from mira.engine.ort import OrtBackend
from mira.engine.tokenize import BatchTokenizer
from mira.engine.tokenpool import TokenizerPool
from mira.repository import MANIFEST_FILE
from mira.settings import DocumentSettings, EngineSettings, ExportSettings

log = logging.getLogger(__name__)


def load_cards(run_dir: Path) -> dict[str, StudentCard]:
    cards = {}
    for path in sorted((run_dir / "students").glob("*/student.json")):
        card = load_artifact(StudentCard, path.read_bytes(), str(path))
        cards[card.group] = card
    if not cards:
        raise FileNotFoundError(f"no students in {run_dir / 'students'}: run `mira distill` first")
    return cards


def source_map(
    grouping: GroupingArtifact, cards: dict[str, StudentCard]
) -> tuple[dict[str, str], str]:
    """source -> group for groups with a student, and the fallback group (largest by docs)."""
    size: Counter[str] = Counter()
    for g in grouping.groups:
        size[g.name] = sum(grouping.docs_per_source.get(s, 0) for s in g.sources)
    fallback = max(cards, key=lambda g: (size[g], g))
    mapping = {}
    for src, group in grouping.source_to_group().items():
        if group not in cards:
            log.warning(
                "group %s has no student: its source %s goes to fallback %s", group, src, fallback
            )
            group = fallback
        mapping[src] = group
    return mapping, fallback


def stage_models(
    stage: Path,
    repo: Path,
    cards: dict[str, StudentCard],
    run_dir: Path,
    tok: BatchTokenizer,
    texts: list[str],
    es: ExportSettings,
) -> list[StagedModel]:
    from discovery.distill.student import load_student
    from discovery.export.onnx import export_onnx, parity
    from discovery.export.quantize import choose

    ids, mask = tok.encode(texts[: es.parity_docs] or ["mira parity sample"])
    how = es.quantize if es.flavour == "python" else "none"  # no int8 kernels on CUDA
    if how != es.quantize:
        log.info("flavour %s publishes fp32: quantize=%s ignored", es.flavour, es.quantize)
    q_ids, q_mask = tok.encode(texts[: es.quantize_docs]) if how != "none" else (ids, mask)
    staged = []
    for group, card in cards.items():
        model = load_student(run_dir / "students" / group / "student.safetensors", card.weights)
        name = f"mira_{group}"
        version = next_version(repo, name)
        onnx_path = stage / f"{name}.onnx"
        export_onnx(model, onnx_path, ids[:2], mask[:2])
        diff = parity(model, onnx_path, ids, mask, es.parity_tol)
        graph, check = choose(onnx_path, q_ids, q_mask, how, es.budget, es.quantize_min_spearman)
        folder = stage_version(stage, name, version, graph)
        staged.append(
            StagedModel(
                group,
                name,
                version,
                len(card.anchors),
                folder,
                diff,
                checksums(f"{name}/{version}", folder),
                quantized=how if check and graph != onnx_path else "none",
                quant_check=check.as_dict() if check else None,
            )
        )
    return staged


def build_manifest(
    cards: dict[str, StudentCard],
    staged: list[StagedModel],
    mapping: dict[str, str],
    fallback: str,
    cal: Calibration,
    tokenizer: str,
    budget: float,
) -> RepositoryManifest:
    groups = {}
    for sm in staged:
        card = cards[sm.group]
        groups[sm.group] = GroupModel(
            model=sm.model,
            version=sm.version,
            anchors=card.anchors,
            weights=card.weights,
            rubric_version=card.rubric_version,
            files=sm.files,
            agreement={a: m.spearman for a, m in card.metrics.items()},
        )
    first = next(iter(cards.values()))
    return RepositoryManifest(
        groups=groups,
        source_groups=mapping,
        fallback_group=fallback,
        thresholds=cal.retention.thresholds,
        default_threshold=cal.default_threshold,
        budget=budget,
        tokenizer=tokenizer,
        max_length=first.max_length,
        max_chars=first.max_chars,
        chars_per_token=cal.chars_per_token,
        default_chars_per_token=cal.default_chars_per_token,
        rubric_versions={g: c.rubric_version for g, c in cards.items()},
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def export_run(
    run_dir: Path,
    corpus: Iterable[Path | str],
    repo: Path,
    es: ExportSettings,
    engine_settings: EngineSettings,
    limits: DocumentSettings,
) -> tuple[RepositoryManifest, Calibration]:
    """Export every student of ``run_dir`` into ``repo`` and calibrate on ``corpus``."""
    from discovery.distill.student import backbone_dir

    cards = load_cards(run_dir)
    shapes = {(c.max_length, c.max_chars) for c in cards.values()}
    if len(shapes) != 1:
        raise ValueError(f"students disagree on (max_length, max_chars): {sorted(shapes)}")
    max_length, max_chars = shapes.pop()
    grouping = load_artifact(
        GroupingArtifact, (run_dir / "grouping.json").read_bytes(), str(run_dir / "grouping.json")
    )
    mapping, fallback = source_map(grouping, cards)
    tok_path = backbone_dir() / "tokenizer.json"
    tok = BatchTokenizer(tok_path, max_length, max_chars)
    docs = sample_corpus(corpus, es.calibration_docs, es.seed, limits)
    stage = staging_dir(repo)
    try:
        staged = stage_models(stage, repo, cards, run_dir, tok, [d.text for d in docs], es)
        refs = {sm.group: (ModelRef(sm.model, sm.version), sm.n_anchors) for sm in staged}
        backend = OrtBackend(
            {
                ref: sm.staged / "model.onnx"
                for sm, (ref, _) in zip(staged, refs.values(), strict=True)
            },
            engine_settings.ort_threads,
        )
        engine = Engine(
            backend,
            TokenizerPool(tok_path, max_length, max_chars, 1),
            retry_policy(engine_settings, engine_settings.local_max_attempts),
        )
        cal = calibrate(
            docs, mapping, fallback, engine, tok, refs, es.budget, engine_settings.pre_cut_margin
        )
        publish(repo, staged, es, max_length)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    tokenizer = install_tokenizer(repo, tok_path)
    manifest = build_manifest(cards, staged, mapping, fallback, cal, tokenizer, es.budget)
    atomic_write(repo / MANIFEST_FILE, (manifest.model_dump_json(indent=2) + "\n").encode())
    write_reports(run_dir / "export", staged, cal, repo)
    return manifest, cal


def write_reports(out: Path, staged: list[StagedModel], cal: Calibration, repo: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    r = cal.retention
    summary = {
        "repo": str(repo),
        "budget": r.budget,
        "kept_share": r.kept_share,
        "per_source": r.rows,
        "thresholds": r.thresholds,
        "chars_per_token": cal.chars_per_token,
        "pre_cut_token_loss_share": cal.token_loss_share,
        "pre_cut_tokens_lost_share": cal.tokens_lost_share,
        "models": {
            sm.model: {
                "version": sm.version,
                "parity_max_abs_diff": sm.parity,  # the fp32 graph against torch
                "quantized": sm.quantized,
                "int8_vs_fp32": sm.quant_check,
            }
            for sm in staged
        },
    }
    (out / "export.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    with (out / "calibration.jsonl").open("w", encoding="utf-8") as fh:
        for row in cal.rows:
            fh.write(json.dumps(row) + "\n")
