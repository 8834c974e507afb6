"""``mira demo``: named steps with timings (first version: corpus + stats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mira.cli import main
from mira.demo import STEPS, DemoRun, Step, run_steps


def test_run_steps_times_each_step_and_shares_artifacts(tmp_path: Path) -> None:
    def first(run: DemoRun) -> str:
        run.artifacts["x"] = run.workdir / "x"
        return "one"

    def second(run: DemoRun) -> str:
        return f"saw {run.artifacts['x'].name}"

    results = run_steps(
        [Step("a", "first", first), Step("b", "second", second)],
        DemoRun(tmp_path / "w", seed=0, max_docs=1),
    )
    assert [(r.name, r.summary) for r in results] == [("a", "one"), ("b", "saw x")]
    assert all(r.seconds >= 0 for r in results) and (tmp_path / "w").is_dir()
    assert [s.name for s in STEPS][:2] == ["corpus", "stats"]


@pytest.mark.slow  # builds real data / runs the encoder: make test, not make check
def test_demo_command_builds_corpus_and_prints_stats(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    res = CliRunner().invoke(
        main, ["demo", "--workdir", str(work), "--max-docs", "48", "--until", "stats"]
    )
    assert res.exit_code == 0, res.output
    lines = (work / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 48 and len({json.loads(x)["source"] for x in lines}) >= 21
    assert "groups" in res.stdout and "mira demo" in res.stdout and "corpus" in res.stdout
