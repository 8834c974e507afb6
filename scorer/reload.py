"""Hot reload: notice a changed manifest, load new model versions in Triton, then switch.

``ManifestWatcher`` polls the file's mtime and size and confirms a change by content hash; a
manifest that does not parse is reported and ignored (the old one stays in use).  A new model
version is loaded (explicit model control) and waited for before requests use it, so no request
is sent to a version that is not ready.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from mira.contracts import RepositoryManifest

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """The manifest file is missing or invalid (one line)."""


def load_manifest(path: Path) -> tuple[RepositoryManifest, str]:
    """Parse the manifest; returns it with the sha256 of its bytes."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror}") from None
    try:
        manifest = RepositoryManifest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "manifest"
        raise ManifestError(f"invalid manifest {path}: {where}: {first['msg']}") from None
    return manifest, hashlib.sha256(raw).hexdigest()


class ManifestWatcher:
    def __init__(self, path: Path, digest: str) -> None:
        self.path = Path(path)
        self.digest = digest
        self._stat = self._stat_key()

    def _stat_key(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def poll(self) -> tuple[RepositoryManifest, str] | None:
        """A new valid manifest when the file changed since the last accepted one, else None."""
        key = self._stat_key()
        if key is None or key == self._stat:
            return None
        try:
            manifest, digest = load_manifest(self.path)
        except ManifestError as exc:
            log.error("%s (keeping the current manifest)", exc)
            self._stat = key
            return None
        if digest == self.digest:
            self._stat = key
            return None
        return manifest, digest

    def accept(self, digest: str) -> None:
        """Mark a polled manifest as in use (until then ``poll`` keeps offering it)."""
        self.digest = digest
        self._stat = self._stat_key()


def model_changes(old: RepositoryManifest, new: RepositoryManifest) -> dict[str, tuple[str, int]]:
    """Groups of ``new`` whose model name or version differs from ``old``: group -> (model, v)."""
    out: dict[str, tuple[str, int]] = {}
    for group, gm in new.groups.items():
        prev = old.groups.get(group)
        if prev is None or (prev.model, prev.version) != (gm.model, gm.version):
            out[group] = (gm.model, gm.version)
    return out


async def activate(
    changes: dict[str, tuple[str, int]],
    load: Callable[[str], Awaitable[None]],
    ready: Callable[[str, str], Awaitable[bool]],
    timeout_s: float = 120.0,
    poll_s: float = 0.2,
) -> bool:
    """Load every changed model and wait until each new version is ready; False on timeout."""
    for model, version in changes.values():
        try:
            await load(model)
        except Exception as exc:  # Triton not in explicit mode: it may load the version itself
            log.warning("load_model(%s) failed: %s; waiting for version %d", model, exc, version)
    deadline = time.monotonic() + timeout_s
    pending = set(changes.values())
    while pending:
        for model, version in list(pending):
            if await ready(model, str(version)):
                pending.discard((model, version))
        if not pending:
            break
        if time.monotonic() >= deadline:
            log.error("model versions not ready after %.0f s: %s", timeout_s, sorted(pending))
            return False
        await asyncio.sleep(poll_s)
    return True
