"""`mira discover` argument and input errors: one line, exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mira.cli import main


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["discover", *args], env=env)
    return res.exit_code, res.output


def _corpus(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text(text)
    return path


def test_help_lists_stages() -> None:
    code, out = _run(["--help"])
    assert code == 0
    for stage in ("groups", "rubrics", "annotate", "all"):
        assert stage in out


def test_bad_values_exit_2(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, '{"id": "a", "source": "s", "text": "t"}\n')
    base = ["groups", "--corpus", str(corpus), "--run", str(tmp_path / "r")]
    code, out = _run([*base, "--k", "0"])
    assert code == 2 and "discovery.k = 0 (from CLI flag --k)" in out
    code, out = _run([*base, "--pin", "nogroup"])
    assert code == 2 and "SOURCE=GROUP" in out
    code, out = _run(base, env={"MIRA_TEACHER_TIMEOUT_S": "-1"})
    assert code == 2 and "teacher.timeout_s" in out
    code, out = _run(
        base, env={"MIRA_TEACHER_API_KEY": "sk-secret", "MIRA_TEACHER_CONCURRENCY": "zero"}
    )
    assert code == 2 and "sk-secret" not in out


def test_malformed_corpus_records_are_counted_and_named_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from discovery.corpus import load_corpus
    from mira.settings import DocumentSettings

    corpus = _corpus(tmp_path, '{"id": "a", "source": "s", "text": "t"}\n{"id": "b"}\n\n')
    loaded = load_corpus([corpus], DocumentSettings())
    assert [d.id for d in loaded["s"]] == ["a"]
    assert loaded.refused == {"missing_field": 1, "blank": 1}
    assert "c.jsonl:2: missing_field" in caplog.text


def test_openai_backend_needs_url(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, '{"id": "a", "source": "s", "text": "t"}\n')
    code, out = _run(
        ["rubrics", "--corpus", str(corpus), "--run", str(tmp_path / "r"), "--backend", "openai"]
    )
    assert code == 2 and "--url" in out
