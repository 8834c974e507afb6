"""validate -> group -> tokenize -> score -> route, over batches of raw records (no transport).

``Pipeline.run(records)`` takes ``(origin, raw bytes)`` pairs and returns one result per record,
in order: a ScoredDocument (decision inside) or a DeadLetter with its reason code and origin.
Nothing is dropped: ``len(results) == len(records)``, always.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from mira.contracts import (
    DeadLetter,
    DeadLetterReason,
    Document,
    RepositoryManifest,
    ScoredDocument,
)
from scorer.backend import BackendError, ScoringBackend
from scorer.route import UnknownSource, decide, resolve_group
from scorer.tokenize import BatchTokenizer, approx_tokens
from scorer.validate import Invalid, parse_document

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Result:
    """One record's outcome: ``scored`` xor ``dead``; ``tokens`` is the whole-text estimate."""

    origin: str
    scored: ScoredDocument | None = None
    dead: DeadLetter | None = None
    tokens: int = 0


def dead_letter(origin: str, raw: bytes, reason: DeadLetterReason, detail: str) -> Result:
    text = raw.decode("utf-8", "surrogateescape")
    return Result(origin, dead=DeadLetter(error=reason, detail=detail, origin=origin, raw=text))


class Pipeline:
    def __init__(self, manifest: RepositoryManifest, tokenizer: BatchTokenizer,
                 backend: ScoringBackend, *, max_bytes: int = 1024 * 1024,
                 unknown_source: UnknownSource = "fallback") -> None:
        self.manifest = manifest
        self.tokenizer = tokenizer
        self.backend = backend
        self.max_bytes = max_bytes
        self.unknown_source: UnknownSource = unknown_source

    def _admit(self, origin: str, raw: bytes) -> tuple[Document, str] | Result:
        doc = parse_document(raw, self.max_bytes)
        if isinstance(doc, Invalid):
            return dead_letter(origin, raw, doc.reason, doc.detail)
        group = resolve_group(doc, self.manifest, self.unknown_source)
        if isinstance(group, Invalid):
            return dead_letter(origin, raw, group.reason, group.detail)
        if self.manifest.threshold_of(doc.source) is None:
            return dead_letter(origin, raw, DeadLetterReason.UNKNOWN_SOURCE,
                               f"no threshold for source {doc.source!r}")
        return doc, group

    def run(self, records: Sequence[tuple[str, bytes]]) -> list[Result]:
        """Score one batch of records; one Result per record, in input order."""
        out: list[Result | None] = [None] * len(records)
        by_group: dict[str, list[tuple[int, Document]]] = defaultdict(list)
        for i, (origin, raw) in enumerate(records):
            admitted = self._admit(origin, raw)
            if isinstance(admitted, Result):
                out[i] = admitted
            else:
                by_group[admitted[1]].append((i, admitted[0]))
        for group, items in by_group.items():
            for i, res in zip([i for i, _ in items], self._score(group, items, records),
                              strict=True):
                out[i] = res
        assert all(r is not None for r in out)
        return [r for r in out if r is not None]

    def _score(self, group: str, items: list[tuple[int, Document]],
               records: Sequence[tuple[str, bytes]]) -> list[Result]:
        gm = self.manifest.groups[group]
        docs = [d for _, d in items]
        try:
            ids, mask = self.tokenizer.encode([d.text for d in docs])
            anchors, score = self.backend.score(gm.model, ids, mask)
            if anchors.shape != (len(docs), len(gm.anchors)) or score.shape != (len(docs),):
                raise BackendError(f"{gm.model}: output shapes {anchors.shape}, {score.shape}")
        except BackendError as exc:
            log.error("inference failed for %d docs of %s: %s", len(docs), group, exc)
            return [dead_letter(records[i][0], records[i][1], DeadLetterReason.INFERENCE_FAILED,
                                str(exc)) for i, _ in items]
        results = []
        for (i, doc), row, value in zip(items, anchors, score, strict=True):
            named = dict(zip(gm.anchors, row.tolist(), strict=True))
            scored = decide(doc, group, named, float(value), self.manifest)
            results.append(Result(records[i][0], scored=scored, tokens=approx_tokens(doc.text)))
        return results
