import json
from pathlib import Path

import numpy as np
import pytest

from discovery.distill.data import (
    anchor_names,
    evaluate,
    read_annotations,
    spearman,
    split_by_doc,
    targets,
)


def ann(doc: str, scores: dict[str, int]) -> str:
    return json.dumps(
        {
            "doc_id": doc,
            "source": "s",
            "group": "g",
            "text": "t",
            "rubric_version": "r1",
            "teacher": "smol",
            "scores": scores,
        }
    )


def test_bad_annotation_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join([ann("d1", {"a": 1}), "{oops", ann("d2", {"a": 9}), ""]) + "\n")
    good, bad = read_annotations(path)
    assert [a.doc_id for a in good] == ["d1"]
    assert [b.split(": ")[0] for b in bad] == [f"{path}:2", f"{path}:3"]


def test_split_is_by_document_and_seeded() -> None:
    ids = [f"d{i % 10}" for i in range(30)]  # every document annotated 3 times
    tr, ho = split_by_doc(ids, 0.2, seed=1)
    assert {ids[i] for i in tr}.isdisjoint({ids[i] for i in ho})
    assert len({ids[i] for i in ho}) == 2 and len(tr) + len(ho) == 30
    assert np.array_equal(split_by_doc(ids, 0.2, 1)[1], ho)
    with pytest.raises(ValueError):
        split_by_doc(["only"], 0.2, 0)


def test_targets_mask_missing_scores() -> None:
    from mira.contracts import Annotation

    rows = [
        Annotation.model_validate_json(ann("d1", {"a": 3})),
        Annotation.model_validate_json(ann("d2", {"a": 1, "b": 5})),
    ]
    y, m = targets(rows, ["a", "b"])
    assert y.tolist() == [[3, 0], [1, 5]] and m.tolist() == [[1, 0], [1, 1]]


def test_anchor_names_from_rubric_else_scores(tmp_path: Path) -> None:
    from mira.contracts import Anchor, Annotation, RubricArtifact

    rows = [Annotation.model_validate_json(ann("d1", {"z": 1, "a": 2}))]
    assert anchor_names(tmp_path, "g", rows) == ["a", "z"]
    rubric = RubricArtifact(
        group="g",
        version="r1",
        teacher="t",
        prompt_hash="h",
        sample_ids=[],
        anchors=[Anchor(name="z", description=""), Anchor(name="a", description="")],
    )
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "g.json").write_text(rubric.model_dump_json())
    assert anchor_names(tmp_path, "g", rows) == ["z", "a"]


def test_spearman_and_evaluate_against_mean_baseline() -> None:
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 9])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 1, 1]), np.array([1.0, 2, 3])) == 0.0
    y = np.array([[0.0, 1], [2, 1], [4, 1]], dtype=np.float32)
    m = np.array([[1, 1], [1, 1], [1, 0]], dtype=np.float32)
    pred = np.array([[0.5, 1], [2, 1], [3.5, 1]], dtype=np.float32)
    out = evaluate(pred, y, m, np.array([2.0, 1.0]), ["a", "b"])
    assert out["a"]["spearman"] == pytest.approx(1.0) and out["a"]["n"] == 3
    assert out["a"]["mae"] == pytest.approx(1 / 3)
    assert out["a"]["baseline_mae"] == pytest.approx(4 / 3)
    assert out["b"]["n"] == 2 and out["b"]["spearman"] == 0.0


def test_injection_flagged_annotations_are_left_out_of_training(tmp_path: Path) -> None:
    from discovery.distill.stage import _training_rows
    from mira.settings import DistillSettings

    flagged = {**json.loads(ann("d2", {"a": 5})), "schema_version": 2, "flags": ["override"]}
    path = tmp_path / "g.jsonl"
    path.write_text(ann("d1", {"a": 1}) + "\n" + json.dumps(flagged) + "\n")
    rows, bad, dropped = _training_rows(path, DistillSettings())
    assert [r.doc_id for r in rows] == ["d1"] and bad == [] and dropped == 1
    rows, _, dropped = _training_rows(path, DistillSettings(drop_flagged=False))
    assert [r.doc_id for r in rows] == ["d1", "d2"] and dropped == 0
