import json
from pathlib import Path

import numpy as np
import pytest

from mira.contracts import DeadLetterReason, RepositoryManifest
from scorer.backend import BackendError
from scorer.ort_backend import OrtBackend
from scorer.pipeline import Pipeline
from scorer.tokenize import BatchTokenizer
from tests.unit.scorer.tiny_onnx import tiny_repo


def load(repo: Path) -> tuple[RepositoryManifest, BatchTokenizer]:
    m = RepositoryManifest.model_validate_json((repo / "mira_manifest.json").read_text())
    return m, BatchTokenizer.from_manifest(repo, m)


def rec(i: int, obj: object) -> tuple[str, bytes]:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return f"f.jsonl:{i}", raw


GOOD = [{"id": "1", "source": "s1", "text": "one two three four five"},  # 7 tokens -> 7.5
        {"id": "2", "source": "s1", "text": "one"},  # 3 tokens -> 3.0
        {"id": "3", "source": "s3", "text": "one two three four five"},  # b: 21 >= 12
        {"id": "4", "source": "unseen", "text": "a b c d e f g"}]  # fallback a: 13.5


def test_scores_routes_and_keeps_order(tmp_path: Path) -> None:
    m, tok = load(tiny_repo(tmp_path))
    p = Pipeline(m, tok, OrtBackend.from_manifest(tmp_path, m))
    out = p.run([rec(i, d) for i, d in enumerate(GOOD, 1)])
    assert [r.origin for r in out] == [f"f.jsonl:{i}" for i in range(1, 5)]
    got = [(r.scored.mira.group, r.scored.mira.score, r.scored.mira.decision)
           for r in out if r.scored]
    assert got == [("a", 5.25, "reject"), ("a", 2.25, "reject"), ("b", 10.5, "reject"),
                   ("a", 6.75, "accept")]
    assert out[0].scored is not None and out[0].scored.mira.anchors == {"x": 7.0, "y": 3.5}
    assert out[0].tokens == 6  # 23 characters / 4, rounded up


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", DeadLetterReason.INVALID_JSON),
    (b"[1, 2]", DeadLetterReason.INVALID_JSON),
    (b"\xff\xfe", DeadLetterReason.BAD_UTF8),
    (b'{"id": "x", "source": "s1"}', DeadLetterReason.MISSING_FIELD),
    (b'{"id": "", "source": "s1", "text": "t"}', DeadLetterReason.INVALID_FIELD),
    (b'{"id": "x", "source": "s1", "text": "' + b"a" * 300 + b'"}', DeadLetterReason.TOO_LARGE),
])
def test_every_malformed_record_is_dead_lettered(tmp_path: Path, raw: bytes,
                                                 reason: DeadLetterReason) -> None:
    m, tok = load(tiny_repo(tmp_path))
    p = Pipeline(m, tok, OrtBackend.from_manifest(tmp_path, m), max_bytes=200)
    out = p.run([rec(1, GOOD[0]), ("bad.jsonl:7", raw), rec(3, GOOD[1])])
    assert len(out) == 3 and out[0].scored and out[2].scored
    dead = out[1].dead
    assert dead is not None and dead.error is reason and dead.origin == "bad.jsonl:7"
    assert dead.raw.encode("utf-8", "surrogateescape") == raw


def test_unknown_source_dead_letter_mode(tmp_path: Path) -> None:
    m, tok = load(tiny_repo(tmp_path))
    p = Pipeline(m, tok, OrtBackend.from_manifest(tmp_path, m), unknown_source="dead-letter")
    out = p.run([rec(1, GOOD[3])])
    assert out[0].dead is not None and out[0].dead.error is DeadLetterReason.UNKNOWN_SOURCE


class Failing:
    def score(self, model: str, input_ids: np.ndarray, attention_mask: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        if model == "mira_b":
            raise BackendError("boom")
        n = len(input_ids)
        return np.zeros((n, 2), np.float32), np.zeros(n, np.float32)


def test_inference_failure_dead_letters_only_that_group(tmp_path: Path) -> None:
    m, tok = load(tiny_repo(tmp_path))
    out = Pipeline(m, tok, Failing()).run([rec(i, d) for i, d in enumerate(GOOD, 1)])
    assert [r.dead.error if r.dead else "ok" for r in out] == [
        "ok", "ok", DeadLetterReason.INFERENCE_FAILED, "ok"]
