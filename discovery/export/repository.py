"""Export the students of a run as a Triton model repository with a manifest.

Layout written (``<repo>``)::

    mira_manifest.json                 RepositoryManifest (sha256 of every model file)
    mira_tokenizer.json                the students' tokenizer (manifest.tokenizer)
    mira_<group>/config.pbtxt          generated, python or onnxruntime flavour
    mira_<group>/<version>/model.onnx  student (anchors + aggregate score)
    mira_<group>/<version>/model.py    python-backend wrapper running onnxruntime

Versions only ever increase, also past versions a rollback moved to the volume's ``attic/``
(:func:`next_version`): a version is built in a staging folder next to the repository and
renamed into place, so an existing version is never overwritten; the manifest and configs are
replaced atomically (write temp, then ``os.replace``).  Each config keeps the previous version
loaded (version policy) and warms a new one up before it reports ready.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from discovery.export.triton_config import config_pbtxt, with_rollout
from mira.repository import MANIFEST_FILE, sha256_file
from mira.settings import ExportSettings

log = logging.getLogger(__name__)

TOKENIZER_FILE = "mira_tokenizer.json"
MODEL_PY = Path(__file__).with_name("triton_python_model.py")
# beside the repository on the model volume (docs/deploy.md): snapshots and rolled-back versions
VOLUME_MEMORY = ("attic", "history")


@dataclass
class StagedModel:
    group: str
    model: str
    version: int
    n_anchors: int
    staged: Path
    parity: float
    files: dict[str, str] = field(default_factory=dict)
    quantized: str = "none"  # the published graph: fp32 (none) or an int8 kind
    quant_check: dict[str, float | int] | None = None  # int8 vs fp32 (export.json)


def next_version(repo: Path, model: str) -> int:
    """1 + the highest version of ``model`` ever published, so a number is never reused.

    Besides the version folders in ``repo``, the model volume's ``attic/`` and ``history/``
    beside it (deploy/k8s/base/repo_history.py) count: a rollback moves versions to
    ``attic/<time>/<model>/<version>`` and keeps the manifests that named them, so a Triton that
    still holds a rolled-back version N never sees a different model published as N again.
    """
    used = _version_folders(repo / model)
    used |= _manifest_versions(repo / MANIFEST_FILE, model)
    for name in VOLUME_MEMORY:
        base = repo.parent / name
        if not base.is_dir():
            continue
        for folder in base.glob(f"*/{model}"):
            used |= _version_folders(folder)
        for manifest in base.rglob(f"*{MANIFEST_FILE}"):
            used |= _manifest_versions(manifest, model)
    return max(used, default=0) + 1


def _version_folders(model_dir: Path) -> set[int]:
    if not model_dir.is_dir():
        return set()
    return {int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()}


def _manifest_versions(path: Path, model: str) -> set[int]:
    """Versions of ``model`` a (possibly old-schema) manifest names; none if unreadable."""
    if not path.is_file():
        return set()
    try:
        groups = json.loads(path.read_bytes())["groups"].values()
        return {int(g["version"]) for g in groups if g.get("model") == model}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s not counted for version numbers: %s", path, exc)
        return set()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_dir(repo: Path) -> Path:
    """A fresh folder next to ``repo`` (same file system, invisible to a Triton polling repo)."""
    repo.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{repo.name}.staging-", dir=repo.parent))


def stage_version(stage: Path, model: str, version: int, onnx_file: Path) -> Path:
    """Put model.onnx + model.py of one version into ``stage/<model>/<version>``."""
    dest = stage / model / str(version)
    dest.mkdir(parents=True)
    shutil.move(str(onnx_file), dest / "model.onnx")
    shutil.copyfile(MODEL_PY, dest / "model.py")
    return dest


def checksums(repo_rel: str, folder: Path) -> dict[str, str]:
    return {f"{repo_rel}/{p.name}": sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def publish(repo: Path, staged: list[StagedModel], opts: ExportSettings, max_length: int) -> None:
    """Rename staged versions into ``repo`` (never over an existing one); write configs (the
    version policy keeps ``opts.keep_versions`` loaded; warmup at ``max_length`` tokens)."""
    repo.mkdir(parents=True, exist_ok=True)
    for sm in staged:
        target = repo / sm.model / str(sm.version)
        if target.exists():
            raise FileExistsError(f"{target} already exists: versions are never overwritten")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(sm.staged, target)
        text = config_pbtxt(
            sm.model,
            sm.n_anchors,
            opts.flavour,
            max_batch_size=opts.max_batch_size,
            instances=opts.instances,
            queue_timeout_us=opts.queue_timeout_ms * 1000,
            execution_env=opts.execution_env,
        )
        text = with_rollout(text, opts.keep_versions, max_length if opts.warmup else None)
        atomic_write(repo / sm.model / "config.pbtxt", text.encode("utf-8"))
        log.info("published %s version %d", sm.model, sm.version)


def install_tokenizer(repo: Path, tokenizer_json: Path) -> str:
    atomic_write(repo / TOKENIZER_FILE, tokenizer_json.read_bytes())
    return TOKENIZER_FILE
