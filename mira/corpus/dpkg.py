"""Which Debian package owns a file, and where its copyright (licence) file is."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

DPKG_INFO = Path("/var/lib/dpkg/info")
DOC_ROOT = Path("/usr/share/doc")


class PackageIndex:
    """Path -> package, read once from dpkg's ``*.list`` files (empty off Debian)."""

    def __init__(self, info_dir: Path = DPKG_INFO, doc_root: Path = DOC_ROOT) -> None:
        self._owner: dict[str, str] = {}
        self._doc_root = doc_root
        for lst in sorted(info_dir.glob("*.list")) if info_dir.is_dir() else []:
            package = lst.name[: -len(".list")].split(":", 1)[0]
            try:
                lines = lst.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                self._owner.setdefault(line, package)
        log.debug("dpkg index: %d paths", len(self._owner))

    def package_of(self, path: str) -> str | None:
        """The package that installed ``path`` (tried as given, then its real path)."""
        owner = self._owner.get(path)
        if owner is None:
            owner = self._owner.get(os.path.realpath(path))
        return owner

    def copyright_of(self, package: str) -> str | None:
        """``/usr/share/doc/<package>/copyright`` when it exists."""
        path = self._doc_root / package / "copyright"
        return str(path) if path.is_file() else None
