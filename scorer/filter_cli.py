"""``mira filter``: the embedded default (files in, in-process onnxruntime, files out).

Writes ``OUT/accepted.jsonl`` and ``OUT/rejected.jsonl`` (ScoredDocument per line),
``OUT/dead_letter.jsonl`` (DeadLetter with reason code and origin ``file:line``) and
``OUT/summary.json``; prints a table per source and group.  in = accepted + rejected + dead-letter.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click

from mira.cli import Context, fail
from mira.progress import bar
from scorer.pipeline import Pipeline, Result

log = logging.getLogger(__name__)

OUTPUTS = ("accepted", "rejected", "dead_letter")


class Summary:
    """Counts per (source, group) and per dead-letter reason."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"docs": 0, "tokens": 0, "kept_docs": 0, "kept_tokens": 0})
        self.dead: Counter[str] = Counter()
        self.count: Counter[str] = Counter()

    def add(self, res: Result) -> str:
        if res.dead is not None:
            self.dead[res.dead.error.value] += 1
            self.count["dead_letter"] += 1
            return "dead_letter"
        assert res.scored is not None
        row = self.rows[(res.scored.source, res.scored.mira.group)]
        keep = res.scored.mira.decision == "accept"
        row["docs"] += 1
        row["tokens"] += res.tokens
        row["kept_docs"] += keep
        row["kept_tokens"] += res.tokens * keep
        kind = "accepted" if keep else "rejected"
        self.count[kind] += 1
        return kind

    def as_dict(self, n_in: int) -> dict[str, Any]:
        tokens = sum(r["tokens"] for r in self.rows.values())
        kept = sum(r["kept_tokens"] for r in self.rows.values())
        return {"in": n_in, **{k: self.count[k] for k in OUTPUTS},
                "dead_letter_reasons": dict(self.dead), "tokens": tokens, "kept_tokens": kept,
                "kept_token_share": kept / tokens if tokens else 0.0,
                "per_source": [{"source": s, "group": g, **r,
                                "kept_share": r["kept_tokens"] / r["tokens"] if r["tokens"] else 0}
                               for (s, g), r in sorted(self.rows.items())]}

    def table(self, n_in: int) -> str:
        d = self.as_dict(n_in)
        lines = [f"{'source':28} {'group':14} {'docs':>6} {'tokens':>10} {'kept_share':>10}"]
        for r in d["per_source"]:
            lines.append(f"{r['source'][:28]:28} {r['group'][:14]:14} {r['docs']:>6} "
                         f"{r['tokens']:>10} {r['kept_share']:>10.3f}")
        lines.append(f"in {n_in} = accepted {d['accepted']} + rejected {d['rejected']} + "
                     f"dead-letter {d['dead_letter']} {d['dead_letter_reasons'] or ''}; "
                     f"kept-token share {d['kept_token_share']:.3f}")
        return "\n".join(lines)


def batches(records: Iterable[tuple[str, bytes]], size: int) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def all_records(inputs: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    from scorer.files import iter_records

    for path in inputs:
        yield from iter_records(path)


def write(fh: IO[str], res: Result) -> None:
    """One JSON line; dead letters go through ``json`` (ASCII) so that undecodable input bytes
    survive as ``\\udcXX`` escapes (``raw.encode("utf-8", "surrogateescape")`` restores them)."""
    if res.dead is not None:
        fh.write(json.dumps(res.dead.model_dump(mode="json")) + "\n")
    else:
        assert res.scored is not None
        fh.write(res.scored.model_dump_json() + "\n")


def build_pipeline(repo: Path, settings: Any, threads: int | None) -> Pipeline:
    from mira.contracts import RepositoryManifest
    from scorer.ort_backend import OrtBackend
    from scorer.tokenize import BatchTokenizer

    manifest = RepositoryManifest.model_validate_json(
        (repo / "mira_manifest.json").read_text("utf-8"))
    return Pipeline(manifest, BatchTokenizer.from_manifest(repo, manifest),
                    OrtBackend.from_manifest(repo, manifest, threads),
                    max_bytes=settings.scorer.max_bytes,
                    unknown_source=settings.scorer.unknown_source)


def run_filter(pipeline: Pipeline, inputs: list[Path], out: Path, batch_size: int) -> Summary:
    """Score every record of ``inputs`` into the three output files; returns the counts."""
    out.mkdir(parents=True, exist_ok=True)
    summary, n_in = Summary(), 0
    with ExitStack() as stack:
        files = {k: stack.enter_context((out / f"{k}.jsonl").open("w", encoding="utf-8"))
                 for k in OUTPUTS}
        progress = stack.enter_context(bar(desc="filter"))
        for batch in batches(all_records(inputs), batch_size):
            results = pipeline.run(batch)
            n_in += len(batch)
            for res in results:
                write(files[summary.add(res)], res)
            progress.update(len(batch))
    total = sum(summary.count[k] for k in OUTPUTS)
    if total != n_in:
        raise RuntimeError(f"lost records: in {n_in} != out {total}")
    (out / "summary.json").write_text(json.dumps(summary.as_dict(n_in), indent=2) + "\n")
    summary.count["in"] = n_in
    return summary


@click.command("filter")
@click.argument("inputs", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model repository [folder of scorer.manifest: model_repository].")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder for accepted/rejected/dead_letter JSONL and summary.json.")
@click.option("--batch-size", type=int, help="Documents per inference batch [64].")
@click.option("--max-bytes", type=int, help="Largest accepted record in bytes [1 MiB].")
@click.option("--unknown-source", type=click.Choice(["fallback", "dead-letter"]),
              help="Unseen sources: score with the fallback group, or dead-letter [fallback].")
@click.option("--threads", type=int, help="onnxruntime intra-op threads [all cores].")
@click.pass_obj
def filter_cmd(obj: Context, inputs: tuple[Path, ...], repo: Path | None, out: Path,
               batch_size: int | None, max_bytes: int | None, unknown_source: str | None,
               threads: int | None) -> None:
    """Score JSONL/Parquet files of Document v1 and split them into accepted/rejected/dead."""
    settings = obj.settings({"scorer": {"batch_size": batch_size, "max_bytes": max_bytes,
                                        "unknown_source": unknown_source}})
    repo = repo or settings.scorer.manifest.parent
    if not (repo / "mira_manifest.json").is_file():
        fail(f"no mira_manifest.json in {repo}: run `mira export` or pass --repo")
    try:
        pipeline = build_pipeline(repo, settings, threads)
    except (ValueError, FileNotFoundError) as exc:
        fail(f"cannot load repository {repo}: {exc}", 1)
    summary = run_filter(pipeline, list(inputs), out, settings.scorer.batch_size)
    click.echo(summary.table(summary.count["in"]))
    click.echo(f"outputs in {out}")
