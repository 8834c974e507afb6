"""``mira corpus stats``: tables, JSON, malformed lines with their numbers, --strict."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mira.cli import main
from mira.contracts import Document
from mira.corpus.stats import compute_stats
from mira.corpus.writer import dumps_document
from mira.settings import DocumentSettings


def _corpus(path: Path) -> Path:
    good = [
        Document(id="a", source="code_py", text="x" * 10, meta={"kind": "code"}),
        Document(id="b", source="code_py", text="x" * 30, meta={"kind": "code"}),
        Document(id="c", source="qa_faq", text="é" * 5),  # no meta.kind: prefix decides
        Document(id="d", source="weird", text="y" * 8, meta={"kind": "docs"}),
    ]
    lines = [
        dumps_document(good[0]),
        "{not json",
        dumps_document(good[1]),
        "",
        '{"id": "x", "text": "no source"}',
        dumps_document(good[2]),
        "[1, 2]",
        dumps_document(good[3]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_stats_rows_and_malformed_line_numbers(tmp_path: Path) -> None:
    stats = compute_stats(_corpus(tmp_path / "c.jsonl"), DocumentSettings())
    assert [m.line for m in stats.malformed] == [2, 4, 5, 7]  # the blank line 4 counts too
    assert stats.malformed[1].error.startswith("blank")
    assert "source" in stats.malformed[2].error
    rows = {r.name: r for r in stats.sources}
    assert (rows["code_py"].docs, rows["code_py"].bytes, rows["code_py"].median_len) == (2, 40, 20)
    assert rows["qa_faq"].group == "qa" and rows["qa_faq"].bytes == 10
    assert rows["weird"].group == "docs"
    groups = {g.name: g for g in stats.groups}
    assert sorted(groups) == ["code", "docs", "qa"]
    assert groups["code"].approx_tokens == 3 + 8 and groups["code"].min_len == 10
    assert stats.total is not None and stats.total.docs == 4 and stats.total.max_len == 30


def test_stats_cli_table_json_and_strict(tmp_path: Path) -> None:
    path = _corpus(tmp_path / "c.jsonl")
    runner = CliRunner()
    res = runner.invoke(main, ["corpus", "stats", str(path)])
    assert res.exit_code == 0, res.output
    assert "code_py" in res.stdout and "groups" in res.stdout
    assert [ln.split(":")[1] for ln in res.stderr.splitlines() if "malformed" in ln] == [
        "2",
        "4",
        "5",
        "7",
    ]
    res = runner.invoke(main, ["corpus", "stats", str(path), "--json"])
    data = json.loads(res.stdout)
    assert [m["line"] for m in data["malformed"]] == [2, 4, 5, 7] and data["total"]["docs"] == 4
    res = runner.invoke(main, ["corpus", "stats", str(path), "--strict"])
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines()[-1] == f"mira: error: 4 malformed line(s) in {path}"


def test_stats_on_clean_file_strict_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(dumps_document(Document(id="a", source="docs_x", text="hello")) + "\n")
    res = CliRunner().invoke(main, ["corpus", "stats", str(path), "--strict", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["malformed"] == []
