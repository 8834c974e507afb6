"""Sample documents from sources: balanced round-robin, seeded, reproducible, nothing silently lost.

Every candidate file is either turned into documents or counted under a skip reason (binary,
bad_utf8, bad_format, empty, too_small, too_large, duplicate, unreadable) in the report.
Same seed and same files => the same documents in the same order.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mira.contracts import CorpusReport, CorpusSkipReason, CorpusSourceReport, Document
from mira.corpus.dpkg import PackageIndex
from mira.corpus.sources import (
    CONVERTERS,
    Candidate,
    SourceSpec,
    list_candidates,
    maybe_gunzip,
    read_bytes,
    resolve_roots,
)
from mira.corpus.split import SPLITTERS
from mira.progress import bar, progress
from mira.settings import CorpusSettings
from mira.tokens import tokens_of_bytes

log = logging.getLogger(__name__)

BINARY_SNIFF = 8192


@dataclass
class _State:
    spec: SourceSpec
    roots: list[str]
    candidates: list[Candidate]
    docs: int = 0
    bytes: int = 0
    tokens: int = 0
    truncated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def doc_id(source: str, origin: str, part: str) -> str:
    """Stable id: the source slug and a hash of the origin path and part."""
    digest = hashlib.sha256(f"{origin}#{part}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"{source}-{digest[:16]}"


def cut_text(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, at the last line break past half."""
    cut = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    newline = cut.rfind("\n")
    return cut[:newline] if newline > len(cut) // 2 else cut


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a candidate file gave no text."""

    reason: CorpusSkipReason


def decode_candidate(cand: Candidate, spec: SourceSpec, max_file_bytes: int) -> str | Skip:
    """The candidate's text after the source's reader, or why it cannot be used."""
    if cand.size > max_file_bytes:
        return Skip("too_large")
    try:
        raw = read_bytes(cand)
    except Exception:  # OSError, BadZipFile, ...: the file is unusable, count it
        return Skip("unreadable")
    try:
        raw = maybe_gunzip(raw)
    except (OSError, EOFError):
        return Skip("bad_format")
    if b"\x00" in raw[:BINARY_SNIFF]:
        return Skip("binary")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Skip("bad_utf8")
    try:
        return CONVERTERS[spec.reader](text.removeprefix("\ufeff"))
    except ValueError:
        return Skip("bad_format")


class CorpusBuild:
    """One build: list sources, then :meth:`documents`, then :meth:`report`."""

    def __init__(
        self,
        specs: Sequence[SourceSpec],
        options: CorpusSettings,
        packages: PackageIndex | None = None,
    ) -> None:
        self.options = options
        self._packages = packages
        self._seen: set[str] = set()
        self._states = [self._list(spec) for spec in progress(specs, desc="listing", unit="src")]

    def _list(self, spec: SourceSpec) -> _State:
        roots = resolve_roots(spec)
        cands = list_candidates(spec, roots)
        random.Random(f"{self.options.seed}:{spec.slug}").shuffle(cands)
        return _State(spec, roots, cands)

    def documents(self) -> Iterator[Document]:
        """Round-robin over sources (one document each per turn) until max_docs or exhaustion."""
        opts = self.options
        active = [(st, self._source_docs(st)) for st in self._states if st.candidates]
        total = 0
        with bar(desc="corpus", total=opts.max_docs) as pbar:
            while active:
                still = []
                for st, it in active:
                    if opts.max_docs is not None and total >= opts.max_docs:
                        return
                    if opts.per_source_cap is not None and st.docs >= opts.per_source_cap:
                        continue
                    doc = next(it, None)
                    if doc is not None:
                        total += 1
                        pbar.update(1)
                        still.append((st, it))
                        yield doc
                active = still

    def _source_docs(self, st: _State) -> Iterator[Document]:
        for cand in st.candidates:
            text = decode_candidate(cand, st.spec, self.options.max_file_bytes)
            if isinstance(text, Skip) or not text.strip():
                st.skipped[text.reason if isinstance(text, Skip) else "empty"] += 1
                continue
            parts = SPLITTERS[st.spec.splitter](text)
            if not parts:
                st.skipped["empty"] += 1
            for part, body in parts:
                doc = self._document(st, cand, part, body)
                if doc is not None:
                    yield doc

    def _document(self, st: _State, cand: Candidate, part: str, body: str) -> Document | None:
        opts = self.options
        text = body.strip("\n").rstrip()
        size = len(text.encode("utf-8"))
        reason: CorpusSkipReason | None = None
        if not text.strip():
            reason = "empty"
        elif size < opts.min_doc_bytes:
            reason = "too_small"
        elif size > opts.max_doc_bytes and opts.oversize == "skip":
            reason = "too_large"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if reason is None and digest in self._seen:
            reason = "duplicate"
        if reason is not None:
            st.skipped[reason] += 1
            return None
        self._seen.add(digest)
        truncated = size > opts.max_doc_bytes
        if truncated:
            text = cut_text(text, opts.max_doc_bytes)
        nbytes = len(text.encode("utf-8"))
        st.docs += 1
        st.bytes += nbytes
        st.tokens += tokens_of_bytes(nbytes)
        st.truncated += truncated
        return Document(
            id=doc_id(st.spec.slug, cand.origin, part),
            source=st.spec.slug,
            text=text,
            meta=self._meta(st.spec, cand, part, nbytes, size if truncated else None),
        )

    def _meta(
        self, spec: SourceSpec, cand: Candidate, part: str, nbytes: int, orig_bytes: int | None
    ) -> dict[str, object]:
        package = self._packages.package_of(cand.path) if self._packages else None
        license_file = self._packages.copyright_of(package) if self._packages and package else None
        return {
            "kind": spec.kind,
            "origin": cand.origin,
            "part": part,
            "package": package,
            "license": spec.license_for(package) or ("see license_file" if license_file else None),
            "license_file": license_file,
            "bytes": nbytes,
            "approx_tokens": tokens_of_bytes(nbytes),
            "truncated": orig_bytes is not None,
            "orig_bytes": orig_bytes,
        }

    def report(self) -> CorpusReport:
        """The summary of what was listed, taken and skipped (call after :meth:`documents`)."""
        sources = [self._source_report(st) for st in self._states]
        skipped: Counter[str] = Counter()
        for st in self._states:
            skipped.update(st.skipped)
        opts = self.options
        return CorpusReport(
            seed=opts.seed,
            max_docs=opts.max_docs,
            per_source_cap=opts.per_source_cap,
            docs=sum(s.docs for s in sources),
            sources_ok=sum(s.docs > 0 for s in sources),
            missing=[s.source for s in sources if s.status == "missing"],
            skipped=dict(sorted(skipped.items())),  # type: ignore[arg-type]
            sources=sources,
        )

    @staticmethod
    def _source_report(st: _State) -> CorpusSourceReport:
        status: Literal["ok", "missing", "empty"] = (
            "missing" if not st.roots else ("ok" if st.docs else "empty")
        )
        return CorpusSourceReport(
            source=st.spec.slug,
            kind=st.spec.kind,
            status=status,
            package=st.spec.package,
            roots=st.roots,
            candidates=len(st.candidates),
            docs=st.docs,
            bytes=st.bytes,
            approx_tokens=st.tokens,
            truncated=st.truncated,
            skipped=dict(sorted(st.skipped.items())),  # type: ignore[arg-type]
        )
