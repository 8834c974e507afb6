"""Distil, aggregate, threshold, export and filter a signal that is there to recover.

The test-only teacher (tests/fixtures/learnable_teacher.py) scores the real ``small_corpus`` with
known functions of the tokens the student sees, plus one anchor of pure noise.  The pipeline must
find the signal (held-out Spearman >= 0.8 on every learnable anchor), ignore the noise (weight
<= 0.05) and keep the token budget (within 2 points), and the exported model that ``mira filter``
runs must carry the same signal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from discovery.distill.data import spearman
from discovery.distill.stage import distill_group
from discovery.distill.student import backbone_dir
from discovery.export.thresholds import Retention
from mira.contracts import Document, RepositoryManifest, StudentCard
from mira.settings import MiraSettings
from tests.fixtures.flows import export, filter_repo
from tests.fixtures.learnable_teacher import LEARNABLE, NOISE, LearnableTeacher, label_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BUDGET = 0.5


@dataclass
class Learned:
    card: StudentCard
    manifest: RepositoryManifest
    retention: Retention
    summary: dict[str, Any]
    labels: dict[str, dict[str, int]]
    scored: dict[str, dict[str, float]]


@pytest.fixture(scope="module")
def learned(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Learned:
    tmp = tmp_path_factory.mktemp("learnable")
    cfg = MiraSettings().distill
    teacher = LearnableTeacher(backbone_dir() / "tokenizer.json", cfg.max_length, cfg.max_chars)
    docs = [Document.model_validate_json(x) for x in small_corpus.read_text("utf-8").splitlines()]
    rows = label_run(tmp / "run", docs, teacher)
    card = distill_group(tmp / "run", "all", cfg)
    manifest, cal = export(
        tmp / "run", small_corpus, tmp / "repo", budget=BUDGET, calibration_docs=100_000
    )
    summary = filter_repo(tmp / "repo", [small_corpus], tmp / "filtered")
    scored = {}
    for name in ("accepted", "rejected"):
        for line in (tmp / "filtered" / f"{name}.jsonl").read_text("utf-8").splitlines():
            rec = json.loads(line)
            scored[rec["id"]] = rec["mira"]["anchors"]
    return Learned(
        card,
        manifest,
        cal.retention,
        summary.as_dict(),
        {r.doc_id: r.scores for r in rows},
        scored,
    )


def test_every_learnable_anchor_is_recovered_on_heldout_documents(learned: Learned) -> None:
    for anchor in LEARNABLE:
        m = learned.card.metrics[anchor]
        assert m.n >= 100 and m.spearman >= 0.8, (anchor, m)
        assert m.spearman_low > 0.6 and m.mae < m.baseline_mae


def test_noise_gets_no_weight(learned: Learned) -> None:
    weights = dict(zip(learned.card.anchors, learned.card.weights, strict=True))
    assert weights[NOISE] <= 0.05, learned.card.metrics[NOISE]
    exported = learned.manifest.groups["all"]
    assert exported.weights == learned.card.weights


def test_kept_tokens_meet_the_budget(learned: Learned) -> None:
    assert abs(learned.retention.kept_share - BUDGET) <= 0.02
    assert abs(learned.summary["kept_token_share"] - BUDGET) <= 0.02
    assert learned.summary["dead_letter"] == 0


def test_filter_runs_the_model_that_learned(learned: Learned) -> None:
    ids = sorted(learned.scored)
    assert len(ids) == len(learned.labels)
    for anchor in LEARNABLE:
        pred = np.array([learned.scored[i][anchor] for i in ids])
        truth = np.array([learned.labels[i][anchor] for i in ids], dtype=float)
        assert spearman(pred, truth) >= 0.8, anchor
