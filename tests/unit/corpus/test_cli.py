"""``mira corpus build`` / ``sources`` through the real CLI (small builds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mira.cli import main
from mira.contracts import CorpusReport

FAQS = ["--source", "qa_python_faq", "--source", "qa_perlfaq"]


def test_build_writes_corpus_and_report(tmp_path: Path) -> None:
    out, rep = tmp_path / "c.jsonl", tmp_path / "r.json"
    res = CliRunner().invoke(
        main,
        [
            "corpus",
            "build",
            "--out",
            str(out),
            "--max-docs",
            "10",
            "--report",
            str(rep),
            "--require-sources",
            "2",
            *FAQS,
        ],
    )
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    assert [json.loads(x)["source"] for x in lines[:2]] == ["qa_python_faq", "qa_perlfaq"]
    report = CorpusReport.model_validate_json(rep.read_text())
    assert report.docs == 10 and report.sources_ok == 2
    assert "wrote 10 documents from 2 sources" in res.stderr


def test_require_sources_fails_with_exit_1(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        [
            "corpus",
            "build",
            "--out",
            str(tmp_path / "c.jsonl"),
            "--max-docs",
            "4",
            "--require-sources",
            "3",
            *FAQS,
        ],
    )
    assert res.exit_code == 1
    assert "only 2 source(s) have documents, 3 required" in res.stderr


def test_bad_options_exit_2_with_one_line(tmp_path: Path) -> None:
    out = str(tmp_path / "c.jsonl")
    for args in (["--max-doc-bytes", "5"], ["--source", "nope"], ["--max-docs", "0"]):
        res = CliRunner().invoke(main, ["corpus", "build", "--out", out, *args])
        assert res.exit_code == 2, (args, res.output)
        assert len(res.stderr.strip().splitlines()) == 1 and "mira: error:" in res.stderr
    assert not Path(out).exists()


def test_env_setting_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRA_CORPUS_MAX_DOCS", "3")
    out = tmp_path / "c.jsonl"
    res = CliRunner().invoke(main, ["corpus", "build", "--out", str(out), *FAQS])
    assert res.exit_code == 0, res.output
    assert len(out.read_text().splitlines()) == 3


def test_sources_lists_catalog() -> None:
    res = CliRunner().invoke(main, ["corpus", "sources", "--json"])
    rows = json.loads(res.stdout)
    assert len(rows) >= 21 and {r["group"] for r in rows} == {
        "code",
        "docs",
        "notebook",
        "qa",
        "config",
    }
