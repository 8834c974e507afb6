from pathlib import Path

import pytest

from mira.contracts import DeadLetterReason, Document, RepositoryManifest
from mira.engine.admit import Invalid
from mira.engine.route import decide, route


@pytest.fixture
def manifest(tmp_path: Path) -> RepositoryManifest:
    from tests.unit.engine.tiny_onnx import tiny_repo

    repo = tiny_repo(tmp_path)
    return RepositoryManifest.model_validate_json((repo / "mira_manifest.json").read_text())


def doc(source: str) -> Document:
    return Document(id="1", source=source, text="t", meta={"k": 1})


def test_known_source_maps_to_its_group(manifest: RepositoryManifest) -> None:
    assert route(doc("s3"), manifest, "fallback") == "b"
    assert route(doc("s3"), manifest, "dead-letter") == "b"


def test_unknown_source_fallback_or_dead_letter(manifest: RepositoryManifest) -> None:
    assert route(doc("new"), manifest, "fallback") == "a"
    out = route(doc("new"), manifest, "dead-letter")
    assert isinstance(out, Invalid) and out.reason is DeadLetterReason.UNKNOWN_SOURCE
    no_fallback = manifest.model_copy(update={"fallback_group": None})
    assert isinstance(route(doc("new"), no_fallback, "fallback"), Invalid)


def test_a_source_without_threshold_is_dead_lettered_before_inference(
    manifest: RepositoryManifest,
) -> None:
    strict = manifest.model_copy(update={"default_threshold": None})
    out = route(doc("new"), strict, "fallback")
    assert isinstance(out, Invalid) and out.reason is DeadLetterReason.NO_THRESHOLD


def test_decide_accepts_at_and_above_the_source_threshold(manifest: RepositoryManifest) -> None:
    at = decide(doc("s1"), "a", {"x": 1.0, "y": 2.0}, 6.0, manifest)
    below = decide(doc("s1"), "a", {"x": 1.0, "y": 2.0}, 5.999, manifest)
    assert not isinstance(at, Invalid) and not isinstance(below, Invalid)
    assert at.mira.decision == "accept" and below.mira.decision == "reject"
    assert at.mira.threshold == 6.0 and at.mira.model == "mira_a" and at.mira.model_version == 1
    assert at.mira.anchors == {"x": 1.0, "y": 2.0} and at.meta == {"k": 1}


def test_decide_uses_default_threshold_for_unseen_source(manifest: RepositoryManifest) -> None:
    out = decide(doc("new"), "a", {}, 6.0, manifest)
    assert not isinstance(out, Invalid) and out.mira.threshold == 6.0
    strict = manifest.model_copy(update={"default_threshold": None})
    gone = decide(doc("new"), "a", {}, 6.0, strict)
    assert isinstance(gone, Invalid) and gone.reason is DeadLetterReason.NO_THRESHOLD
