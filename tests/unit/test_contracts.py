"""Every contract in mira.contracts.CONTRACTS survives a JSON round trip; ``mira schema`` works."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from mira.cli import main
from mira.contracts import CONTRACTS, Document, RepositoryManifest, text_hash

_ANCHORS = ["clarity", "correctness"]
_GROUP_MODEL = {
    "model": "mira_code",
    "version": 1,
    "anchors": _ANCHORS,
    "weights": [0.6, 0.4],
    "rubric_version": "r1",
    "agreement": {"clarity": 0.5},
    "files": {"a": "ff"},
}
_VERDICT = {
    "group": "code",
    "score": 3.5,
    "anchors": {"clarity": 4.0},
    "threshold": 2.5,
    "decision": "accept",
    "model": "mira_code",
    "model_version": 1,
    "rubric_version": "r1",
}
_DOC = {"id": "d1", "source": "code_python", "text": "print('é')\n", "meta": {"kind": "code"}}

# One valid example per contract name: a new contract needs an example here.
EXAMPLES: dict[str, dict[str, Any]] = {
    "document": _DOC,
    "scored-document": {**_DOC, "mira": _VERDICT},
    "dead-letter": {
        "error": "invalid_json",
        "detail": "line 1 col 2: Expecting value",
        "origin": "mira.docs/0/17",
        "raw": "{oops",
    },
    "grouping": {
        "embedder": "minilm",
        "k": 2,
        "k_selection": "given",
        "silhouette": 0.3,
        "groups": [
            {"name": "code", "sources": ["code_python"], "intra_similarity": 0.8},
            {
                "name": "docs",
                "sources": ["docs_man"],
                "intra_similarity": 0.7,
                "pinned": ["docs_man"],
            },
        ],
        "inter_similarity": {"code": {"docs": 0.2}},
        "docs_per_source": {"code_python": 10, "docs_man": 12},
    },
    "rubric": {
        "group": "code",
        "version": "r1",
        "teacher": "smollm2",
        "prompt_hash": "abc",
        "sample_ids": ["d1"],
        "anchors": [
            {
                "name": "clarity",
                "description": "easy to read",
                "high": ["clear"],
                "low": ["messy"],
                "proposals": ["readability"],
                "size": 3,
            }
        ],
        "counts": {"proposals": 3},
    },
    "manifest": {
        "groups": {"code": _GROUP_MODEL},
        "source_groups": {"code_python": "code"},
        "fallback_group": "code",
        "thresholds": {"code_python": 2.5},
        "default_threshold": 2.0,
        "budget": 0.5,
        "tokenizer": "tokenizer/tokenizer.json",
        "max_length": 256,
        "max_chars": 2048,
        "rubric_versions": {"code": "r1"},
    },
    "proposal-answer": {
        "dimensions": [
            {"name": "clarity", "description": "is it clear?", "high": "very", "low": "not"}
        ]
    },
    "score-answer": {"scores": [{"anchor": "clarity", "score": 4, "rationale": "clear"}]},
    "annotation": {
        "doc_id": "d1",
        "source": "code_python",
        "group": "code",
        "text": "x = 1",
        "rubric_version": "r1",
        "teacher": "smollm2",
        "scores": {"clarity": 5},
        "rationales": {"clarity": "short"},
    },
    "corpus-report": {
        "seed": 1,
        "max_docs": 10,
        "per_source_cap": None,
        "docs": 3,
        "sources_ok": 1,
        "missing": ["docs_rust"],
        "skipped": {"binary": 2},
        "sources": [
            {
                "source": "code_c",
                "kind": "code",
                "status": "ok",
                "package": "libc6-dev",
                "roots": ["/usr/include"],
                "candidates": 9,
                "docs": 3,
                "bytes": 900,
                "approx_tokens": 225,
                "truncated": 1,
                "skipped": {"binary": 2},
            },
            {"source": "docs_rust", "kind": "docs", "status": "missing"},
        ],
    },
    "student-card": {
        "group": "code",
        "anchors": _ANCHORS,
        "weights": [0.5, 0.5],
        "weights_rule": "spearman",
        "rubric_version": "r1",
        "teacher": "smollm2",
        "backbone": "minilm",
        "max_length": 128,
        "max_chars": 2048,
        "trainable_layers": 0,
        "seed": 0,
        "n_train": 8,
        "n_heldout": 2,
        "epochs": 3,
        "best_epoch": 2,
        "train_seconds": 1.5,
        "metrics": {
            "clarity": {"spearman": 0.4, "mae": 0.8, "baseline_mae": 1.0, "weight": 0.5, "n": 2}
        },
    },
}


def test_every_contract_has_an_example() -> None:
    missing = sorted(set(CONTRACTS) - set(EXAMPLES))
    assert not missing, f"add an example for {missing} to tests/unit/test_contracts.py EXAMPLES"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_json_round_trip(name: str) -> None:
    if name not in CONTRACTS:
        pytest.fail(f"example {name!r} names no contract")
    model = CONTRACTS[name]
    obj = model.model_validate(EXAMPLES[name])
    again = model.model_validate_json(obj.model_dump_json())
    assert again == obj
    assert json.loads(again.model_dump_json()) == json.loads(obj.model_dump_json())


def test_contracts_reject_unknown_fields_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        Document.model_validate({**_DOC, "extra": 1})
    with pytest.raises(ValidationError):
        Document.model_validate({**_DOC, "id": ""})
    bad = {**EXAMPLES["manifest"], "source_groups": {"code_python": "nope"}}
    with pytest.raises(ValidationError, match="unknown groups"):
        RepositoryManifest.model_validate(bad)
    assert text_hash("é") == text_hash("é") != text_hash("e")


def test_schema_command_prints_every_contract_and_one() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["schema"])
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)) == set(CONTRACTS)
    res = runner.invoke(main, ["schema", "document"])
    assert json.loads(res.stdout) == Document.model_json_schema()
    res = runner.invoke(main, ["schema", "nope"])
    assert res.exit_code == 2


def test_every_reason_code_is_documented() -> None:
    from pathlib import Path

    from mira.contracts import REASON_DOCS, DeadLetterReason

    text = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    for reason in DeadLetterReason:
        assert f"| `{reason.value}` | {REASON_DOCS[reason]} |" in text, reason
