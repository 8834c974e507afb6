"""Describe a corpus file: documents, bytes, approximate tokens and lengths per source and group.

Malformed records (not JSON, not a Document v1) are counted and reported with their 1-based line
number (row number for Parquet), never skipped silently.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mira.contracts import Document
from mira.corpus.kinds import kind_of
from mira.tokens import tokens_of_bytes


@dataclass(frozen=True)
class Malformed:
    line: int
    error: str


@dataclass(frozen=True)
class Row:
    """One table row: a source or a group (lengths are UTF-8 bytes of ``text``)."""

    name: str
    group: str
    docs: int
    bytes: int
    approx_tokens: int
    min_len: int
    median_len: float
    max_len: int


@dataclass
class CorpusStats:
    file: str
    sources: list[Row] = field(default_factory=list)
    groups: list[Row] = field(default_factory=list)
    total: Row | None = None
    malformed: list[Malformed] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "sources": [asdict(r) for r in self.sources],
                "groups": [asdict(r) for r in self.groups],
                "total": asdict(self.total) if self.total else None,
                "malformed": [asdict(m) for m in self.malformed]}


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "document"
        return f"not a Document v1: {where}: {err['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (col {exc.colno})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, parsed object or error) for every non-blank line / Parquet row."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        row = 0
        for batch in pq.ParquetFile(path).iter_batches():
            for rec in batch.to_pylist():
                row += 1
                yield row, rec
        return
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                yield lineno, json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield lineno, f"bad UTF-8 at byte {exc.start}"
            except json.JSONDecodeError as exc:
                yield lineno, _first_line(exc)


def _validate(obj: dict[str, Any] | str) -> Document | str:
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return f"not a Document v1: top level is {type(obj).__name__}"
    if isinstance(obj.get("meta"), str):  # Parquet stores meta as a JSON string
        try:
            obj = {**obj, "meta": json.loads(obj["meta"] or "{}")}
        except json.JSONDecodeError as exc:
            return f"meta is not JSON: {exc.msg}"
    try:
        return Document.model_validate(obj)
    except ValidationError as exc:
        return _first_line(exc)


def _row(name: str, group: str, lengths: list[int]) -> Row:
    return Row(name, group, len(lengths), sum(lengths), sum(tokens_of_bytes(n) for n in lengths),
               min(lengths), float(statistics.median(lengths)), max(lengths))


def compute_stats(path: Path) -> CorpusStats:
    """Read the whole file once and build the per-source, per-group and total rows."""
    result = CorpusStats(file=str(path))
    by_source: dict[str, list[int]] = defaultdict(list)
    group_of: dict[str, str] = {}
    for lineno, obj in _records(path):
        doc = _validate(obj)
        if isinstance(doc, str):
            result.malformed.append(Malformed(lineno, doc))
            continue
        by_source[doc.source].append(len(doc.text.encode("utf-8", "surrogatepass")))
        kind = doc.meta.get("kind")
        if not isinstance(kind, str) or not kind:
            kind = kind_of(doc.source)
        group_of.setdefault(doc.source, kind)
    by_group: dict[str, list[int]] = defaultdict(list)
    for source in sorted(by_source):
        result.sources.append(_row(source, group_of[source], by_source[source]))
        by_group[group_of[source]].extend(by_source[source])
    result.groups = [_row(g, g, by_group[g]) for g in sorted(by_group)]
    every = [n for lengths in by_source.values() for n in lengths]
    result.total = _row("total", "-", every) if every else None
    return result


def render_table(stats: CorpusStats) -> None:
    """Print the source and group tables with rich (stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # pipes and logs: wide enough for every column
        console = Console(width=120)
    for title, rows in (("sources", stats.sources), ("groups", stats.groups)):
        table = Table(title=f"{stats.file}: {title}")
        for col in ("name", "group", "docs", "bytes", "~tokens", "min", "median", "max"):
            table.add_column(col, justify="left" if col in ("name", "group") else "right",
                             no_wrap=True, min_width=18 if col == "name" else None)
        for r in [*rows, *([stats.total] if stats.total else [])]:
            table.add_row(r.name, r.group, str(r.docs), f"{r.bytes:,}", f"{r.approx_tokens:,}",
                          str(r.min_len), f"{r.median_len:g}", str(r.max_len))
        console.print(table)
    if stats.malformed:
        console.print(f"[red]{len(stats.malformed)} malformed line(s)[/red]: "
                      + ", ".join(str(m.line) for m in stats.malformed[:20]))
