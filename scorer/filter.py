"""``mira filter`` as a library: files in, the engine with in-process onnxruntime, files out.

Records are read by the one reader, admitted and routed by the engine, batched per group and
scored; every outcome is written as soon as it is known (a crash at document N leaves the first
results on disk).  in = accepted + rejected + dead-letter, always, blank lines included.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mira.contracts import DeadLetter, Document, RepositoryManifest, ScoredDocument
from mira.engine.admit import Invalid, admit
from mira.engine.engine import Engine, score_documents
from mira.engine.route import UnknownSource, route
from mira.progress import bar
from mira.reader import RawRecord, read_records
from mira.settings import DocumentSettings, MiraSettings
from scorer.summary import OUTPUTS, Summary


@dataclass(frozen=True, slots=True)
class FilterPlan:
    """What a filter run needs besides its inputs (plain values, from settings)."""

    manifest: RepositoryManifest
    limits: DocumentSettings
    unknown_source: UnknownSource
    batch_size: int
    pre_cut_margin: float

    @classmethod
    def of(cls, manifest: RepositoryManifest, settings: MiraSettings) -> FilterPlan:
        """The plan that the settings' document, scorer and engine sections make."""
        sc = settings.scorer
        return cls(
            manifest,
            settings.document,
            sc.unknown_source,
            sc.batch_size,
            settings.engine.pre_cut_margin,
        )


class Outputs:
    """The three JSONL outputs, flushed after every batch."""

    def __init__(self, out: Path, stack: ExitStack) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, IO[str]] = {
            k: stack.enter_context((out / f"{k}.jsonl").open("w", encoding="utf-8"))
            for k in OUTPUTS
        }

    def scored(self, doc: ScoredDocument, kind: str) -> None:
        self.files[kind].write(doc.model_dump_json() + "\n")

    def dead(self, rec: RawRecord, why: Invalid) -> None:
        cut = f" (first {len(rec.raw)} of {rec.size} bytes kept)" if rec.size > len(rec.raw) else ""
        letter = DeadLetter.of(why.reason, why.detail + cut, rec.origin, rec.raw)
        self.files["dead_letter"].write(letter.json_line())

    def flush(self) -> None:
        for fh in self.files.values():
            fh.flush()


async def run_filter(
    engine: Engine,
    plan: FilterPlan,
    inputs: Iterable[Path | str],
    out: Path,
    stdin: IO[bytes] | None = None,
) -> Summary:
    """Score every record of ``inputs`` into ``out``; returns the counts (also summary.json)."""
    summary = Summary()
    pending: dict[str, list[tuple[RawRecord, Document]]] = defaultdict(list)
    with ExitStack() as stack:
        outputs = Outputs(out, stack)
        progress = stack.enter_context(bar(desc="filter"))
        for rec in read_records(inputs, plan.limits.max_bytes, stdin):
            summary.count["in"] += 1
            doc = admit(rec.raw, plan.limits, rec.size)
            group = (
                doc if isinstance(doc, Invalid) else route(doc, plan.manifest, plan.unknown_source)
            )
            if isinstance(group, Invalid):
                _dead(outputs, summary, rec, group)
                continue
            assert isinstance(doc, Document)
            pending[group].append((rec, doc))
            if len(pending[group]) >= plan.batch_size:
                await _flush(engine, plan, group, pending.pop(group), outputs, summary)
                progress.update(plan.batch_size)
        for group in list(pending):
            items = pending.pop(group)
            await _flush(engine, plan, group, items, outputs, summary)
            progress.update(len(items))
    summary.check()
    (out / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return summary


def _dead(outputs: Outputs, summary: Summary, rec: RawRecord, why: Invalid) -> None:
    outputs.dead(rec, why)
    summary.add_dead(why.reason.value)


async def _flush(
    engine: Engine,
    plan: FilterPlan,
    group: str,
    items: list[tuple[RawRecord, Document]],
    outputs: Outputs,
    summary: Summary,
) -> None:
    results = await score_documents(
        engine, plan.manifest, group, [d for _, d in items], plan.pre_cut_margin
    )
    for (rec, _), res in zip(items, results, strict=True):
        if isinstance(res, Invalid):
            _dead(outputs, summary, rec, res)
        else:
            outputs.scored(res, summary.add_scored(res))
    outputs.flush()


def filter_files(
    engine: Engine,
    plan: FilterPlan,
    inputs: Iterable[Path | str],
    out: Path,
    stdin: IO[bytes] | None = None,
) -> Summary:
    """Synchronous entry point (closes the engine's backend and tokenizer afterwards)."""

    async def main() -> Summary:
        try:
            return await run_filter(engine, plan, inputs, out, stdin)
        finally:
            await engine.backend.close()
            engine.tokens.close()

    return asyncio.run(main())
