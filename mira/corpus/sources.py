"""A source: where its files are on the machine, and how one file becomes text.

A :class:`SourceSpec` names root directories (glob patterns, ``~`` expanded) or zip archives, a
regex selecting files by their path relative to the root (or member name inside the zip), a reader
(how bytes become text) and a splitter (how text becomes one or more documents).  Listing is
sorted and de-duplicated by real path, so it is the same on every run over the same files.
"""

from __future__ import annotations

import glob
import gzip
import logging
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from mira.corpus.kinds import kind_of
from mira.corpus.textconv import html_to_text, notebook_to_text, troff_to_text

log = logging.getLogger(__name__)

Reader = Literal["text", "gzip_troff", "html", "notebook"]
Container = Literal["dir", "zip"]


@dataclass(frozen=True)
class SourceSpec:
    """One corpus source (``slug`` like ``code_python``; its prefix is its kind)."""

    slug: str
    description: str
    roots: tuple[str, ...]
    include: str
    exclude: str | None = None
    container: Container = "dir"
    reader: Reader = "text"
    splitter: str = "whole"
    package: str | None = None
    license: str | None = None
    license_packages: tuple[str, ...] = field(default_factory=tuple)
    newest_only: bool = False

    @property
    def kind(self) -> str:
        return kind_of(self.slug)

    def license_for(self, package: str | None) -> str | None:
        """This source's licence when the file's package is the source's own (or unknown)."""
        if package is None or not self.license_packages:
            return self.license
        return self.license if any(package.startswith(p) for p in self.license_packages) else None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file (or zip member) that may become documents."""

    origin: str  # display path: "/usr/lib/x.py" or "/usr/lib/src.zip!java/lang/String.java"
    path: str  # the file on disk (the zip itself for a member)
    member: str | None
    size: int


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", text)]


def resolve_roots(spec: SourceSpec) -> list[str]:
    """Existing roots; with ``newest_only`` only the newest match of the first matching pattern."""
    found: list[str] = []
    for pattern in spec.roots:
        matches = sorted(glob.glob(os.path.expanduser(pattern)), key=_natural_key)
        matches = [m for m in matches if os.path.isdir(m) or os.path.isfile(m)]
        if spec.newest_only and matches:
            return [matches[-1]]
        found.extend(m for m in matches if m not in found)
    return found


@lru_cache(maxsize=32)
def _walk(root: str) -> tuple[tuple[str, int], ...]:
    """All regular files under ``root`` as (relative posix path, size), sorted; symlinks skipped."""
    out: list[tuple[str, int]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _: None):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full, follow_symlinks=False)
            except OSError:
                continue
            if os.path.isfile(full) and not os.path.islink(full):
                out.append((os.path.relpath(full, root).replace(os.sep, "/"), st.st_size))
    return tuple(out)


def _zip_members(path: str) -> list[tuple[str, int]]:
    try:
        with zipfile.ZipFile(path) as zf:
            return sorted((i.filename, i.file_size) for i in zf.infolist() if not i.is_dir())
    except (OSError, zipfile.BadZipFile) as exc:
        log.warning("cannot read zip %s: %s", path, exc)
        return []


def list_candidates(spec: SourceSpec, roots: list[str]) -> list[Candidate]:
    """The source's files under its roots, sorted, one per real path."""
    include = re.compile(spec.include)
    exclude = re.compile(spec.exclude) if spec.exclude else None
    seen: set[str] = set()
    out: list[Candidate] = []
    for root in roots:
        if spec.container == "zip":
            entries = _zip_members(root) if os.path.isfile(root) else []
        else:
            entries = list(_walk(root)) if os.path.isdir(root) else []
        for rel, size in entries:
            if not include.search(rel) or (exclude and exclude.search(rel)):
                continue
            if spec.container == "zip":
                out.append(Candidate(f"{root}!{rel}", root, rel, size))
                continue
            full = os.path.join(root, rel)
            real = os.path.realpath(full)
            if real not in seen:
                seen.add(real)
                out.append(Candidate(full, full, None, size))
    return out


@lru_cache(maxsize=4)
def _open_zip(path: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def read_bytes(cand: Candidate) -> bytes:
    """The raw bytes of a candidate (OSError / BadZipFile on failure)."""
    if cand.member is not None:
        return _open_zip(cand.path).read(cand.member)
    return Path(cand.path).read_bytes()


def maybe_gunzip(raw: bytes) -> bytes:
    """Decompress gzip data (man pages, ``*.md.gz``); other bytes pass unchanged."""
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


CONVERTERS: dict[Reader, Callable[[str], str]] = {
    "text": lambda s: s,
    "gzip_troff": troff_to_text,
    "html": html_to_text,
    "notebook": notebook_to_text,
}
