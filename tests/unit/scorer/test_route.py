from pathlib import Path

import pytest

from mira.contracts import DeadLetterReason, Document, RepositoryManifest
from scorer.route import decide, resolve_group
from scorer.validate import Invalid


@pytest.fixture
def manifest(tmp_path: Path) -> RepositoryManifest:
    from tests.unit.scorer.tiny_onnx import tiny_repo

    repo = tiny_repo(tmp_path)
    return RepositoryManifest.model_validate_json((repo / "mira_manifest.json").read_text())


def doc(source: str) -> Document:
    return Document(id="1", source=source, text="t", meta={"k": 1})


def test_known_source_maps_to_its_group(manifest: RepositoryManifest) -> None:
    assert resolve_group(doc("s3"), manifest) == "b"
    assert resolve_group(doc("s3"), manifest, "dead-letter") == "b"


def test_unknown_source_fallback_or_dead_letter(manifest: RepositoryManifest) -> None:
    assert resolve_group(doc("new"), manifest, "fallback") == "a"
    out = resolve_group(doc("new"), manifest, "dead-letter")
    assert isinstance(out, Invalid) and out.reason is DeadLetterReason.UNKNOWN_SOURCE
    no_fallback = manifest.model_copy(update={"fallback_group": None})
    assert isinstance(resolve_group(doc("new"), no_fallback, "fallback"), Invalid)


def test_decide_accepts_at_and_above_the_source_threshold(manifest: RepositoryManifest) -> None:
    at = decide(doc("s1"), "a", {"x": 1.0, "y": 2.0}, 6.0, manifest)
    below = decide(doc("s1"), "a", {"x": 1.0, "y": 2.0}, 5.999, manifest)
    assert at.mira.decision == "accept" and below.mira.decision == "reject"
    assert at.mira.threshold == 6.0 and at.mira.model == "mira_a" and at.mira.model_version == 1
    assert at.mira.anchors == {"x": 1.0, "y": 2.0} and at.meta == {"k": 1}


def test_decide_uses_default_threshold_for_unseen_source(manifest: RepositoryManifest) -> None:
    assert decide(doc("new"), "a", {}, 6.0, manifest).mira.threshold == 6.0
    strict = manifest.model_copy(update={"default_threshold": None})
    with pytest.raises(KeyError):
        decide(doc("new"), "a", {}, 6.0, strict)
