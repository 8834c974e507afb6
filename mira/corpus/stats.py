"""Describe a corpus file: documents, bytes, approximate tokens and lengths per source and group.

Records are read by the one reader and judged by admission: refused ones (blank lines, not JSON,
not a Document v1...) are counted and reported with their reason code and 1-based line number
(row number for Parquet), never skipped silently.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mira.corpus.kinds import kind_of
from mira.engine.admit import Invalid, admit
from mira.reader import read_records
from mira.settings import DocumentSettings
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
        return {
            "file": self.file,
            "sources": [asdict(r) for r in self.sources],
            "groups": [asdict(r) for r in self.groups],
            "total": asdict(self.total) if self.total else None,
            "malformed": [asdict(m) for m in self.malformed],
        }


def _row(name: str, group: str, lengths: list[int]) -> Row:
    return Row(
        name,
        group,
        len(lengths),
        sum(lengths),
        sum(tokens_of_bytes(n) for n in lengths),
        min(lengths),
        float(statistics.median(lengths)),
        max(lengths),
    )


def compute_stats(path: Path, limits: DocumentSettings) -> CorpusStats:
    """Read the whole file once (the one reader and admission) and build the per-source,
    per-group and total rows; refused records are listed with their line (or row) number."""
    result = CorpusStats(file=str(path))
    by_source: dict[str, list[int]] = defaultdict(list)
    group_of: dict[str, str] = {}
    for rec in read_records([path], limits.max_bytes):
        doc = admit(rec.raw, limits, rec.size)
        if isinstance(doc, Invalid):
            line = int(rec.origin.rsplit(":", 1)[1])
            result.malformed.append(Malformed(line, f"{doc.reason.value}: {doc.detail}"))
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
            table.add_column(
                col,
                justify="left" if col in ("name", "group") else "right",
                no_wrap=True,
                min_width=18 if col == "name" else None,
            )
        for r in [*rows, *([stats.total] if stats.total else [])]:
            table.add_row(
                r.name,
                r.group,
                str(r.docs),
                f"{r.bytes:,}",
                f"{r.approx_tokens:,}",
                str(r.min_len),
                f"{r.median_len:g}",
                str(r.max_len),
            )
        console.print(table)
    if stats.malformed:
        console.print(
            f"[red]{len(stats.malformed)} malformed line(s)[/red]: "
            + ", ".join(str(m.line) for m in stats.malformed[:20])
        )
