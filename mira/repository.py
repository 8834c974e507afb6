"""The model repository as mira reads it: the manifest, and the integrity of its model files.

``mira export`` writes ``<repo>/mira_manifest.json`` with the sha256 of every model file; the
scorer and ``mira filter`` load the manifest through :func:`load_manifest` and check every file
it names with :func:`verify_models` before use (at start and on each reload), so a file swapped
on disk is refused, not executed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mira import metrics
from mira.contracts import ArtifactError, RepositoryManifest, load_artifact

MANIFEST_FILE = "mira_manifest.json"


class ManifestError(ValueError):
    """The manifest is missing or invalid, or a model file does not match it (one line)."""


def load_manifest(path: Path) -> tuple[RepositoryManifest, str]:
    """Parse the manifest; returns it with the sha256 of its bytes."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror}") from None
    try:
        manifest = load_artifact(RepositoryManifest, raw, str(path))
    except ArtifactError as exc:
        raise ManifestError(f"invalid manifest {exc}") from None
    return manifest, hashlib.sha256(raw).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_models(repo: Path, manifest: RepositoryManifest) -> None:
    """Every file the manifest lists exists under ``repo`` with the listed sha256.

    A group whose ``files`` map is empty names nothing to check and is refused too: an
    unverifiable model is never loaded.
    """
    for group, gm in manifest.groups.items():
        if not gm.files:
            _refuse(f"group {group}: the manifest lists no model files to verify")
        for rel, digest in sorted(gm.files.items()):
            path = Path(repo) / rel
            if not path.is_file():
                _refuse(f"{path} is missing (named by the manifest for group {group})")
            actual = sha256_file(path)
            if actual != digest:
                _refuse(
                    f"{path}: sha256 {actual[:12]}... does not match the manifest's "
                    f"{digest[:12]}... (group {group}): refusing a tampered or partial model"
                )


def _refuse(message: str) -> None:
    metrics.MODEL_INTEGRITY_FAILURES.inc()
    raise ManifestError(message)
