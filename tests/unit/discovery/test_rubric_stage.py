"""Rubric stage: all groups' proposals in one batch, more rounds for groups without a valid one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from discovery.rubrics.stage import run_rubrics
from discovery.rundir import RunDir, write_model
from discovery.teacher.base import CallableTeacher, Prompt, Sampling
from mira.contracts import Document, GroupInfo, GroupingArtifact
from mira.settings import MiraSettings

GOOD = {
    "name": "clarity",
    "description": "how easy the explanation is to follow",
    "high": "clear steps in order",
    "low": "confusing jumps around",
}
JUNK = {
    "name": "low_high_low",
    "description": "the high and low of it",
    "high": "high",
    "low": "low",
}


class FakeEmbedder:
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t), 1.0] for t in texts]) / 100


def test_groups_without_valid_proposals_get_more_rounds(tmp_path: Path) -> None:
    corpus = {
        s: [Document(id=f"{s}{i}", source=s, text=f"{s} document {i}") for i in range(6)]
        for s in ("a", "b")
    }
    run = RunDir(tmp_path)
    write_model(
        run.grouping,
        GroupingArtifact(
            embedder="",
            k=2,
            k_selection="given",
            inter_similarity={"ga": {}, "gb": {}},
            groups=[
                GroupInfo(name="ga", sources=["a"], intra_similarity=1.0),
                GroupInfo(name="gb", sources=["b"], intra_similarity=1.0),
            ],
            docs_per_source={"a": 6, "b": 6},
        ),
    )
    batches: list[int] = []

    def answer(prompt: Prompt, sampling: Sampling) -> str:
        text = prompt.messages[-1]["content"]
        dim = GOOD if ("b document" in text or text.rstrip().endswith("3\n</document>")) else JUNK
        return json.dumps({"dimensions": [dim]})

    teacher = CallableTeacher(answer, max_retries=0)
    original = teacher.complete

    def complete(prompts, schema, sampling):  # type: ignore[no-untyped-def]
        batches.append(len(prompts))
        return original(prompts, schema, sampling)

    teacher.complete = complete  # type: ignore[method-assign]
    ds = MiraSettings().discovery.model_copy(
        update={"samples_per_group": 2, "dims_per_doc": 1, "proposal_rounds": 3, "anchors": 2}
    )
    failed: dict[str, str] = {}
    rubrics = run_rubrics(corpus, run, teacher, ds, 16, [], FakeEmbedder(), failed)  # type: ignore[arg-type]
    assert batches[0] == 4  # both groups' first samples in one batch
    assert all(b <= 2 for b in batches[1:]) and len(batches) <= 3  # only "ga" goes on
    by_group = {r.group: r for r in rubrics}
    assert set(by_group) == {"ga", "gb"} and not failed  # a3 is among ga's six documents
    assert [a.name for a in by_group["gb"].anchors] == ["clarity"]
    assert len(by_group["ga"].sample_ids) == 2 * len(batches)
    report = json.loads(run.report.read_text())
    assert report["rubrics:gb"]["invalid_schema_echo"] == 0
    assert report["rubrics:ga"]["invalid_schema_echo"] == 2 * len(batches) - 1
