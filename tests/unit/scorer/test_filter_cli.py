import json
from pathlib import Path

from click.testing import CliRunner

from mira.cli import main
from tests.unit.engine.tiny_onnx import tiny_repo


def test_filter_counts_and_outputs(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path / "repo")
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": str(i), "source": "s1", "text": "w " * i}) for i in range(1, 9)]
    lines[3] = '{"id": "broken"'
    src.write_bytes(("\n".join(lines) + "\n\n").encode() + b"\xff\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["filter", str(src), "--repo", str(repo), "--out", str(out), "--batch-size", "3"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    counts = {
        k: len((out / f"{k}.jsonl").read_text().splitlines())
        for k in ("accepted", "rejected", "dead_letter")
    }
    assert summary["in"] == 10 == sum(counts.values())  # the blank line counts too
    assert counts["dead_letter"] == summary["dead_letter"] == 3
    assert summary["dead_letter_reasons"] == {"invalid_json": 1, "blank": 1, "bad_utf8": 1}
    dead = [json.loads(x) for x in (out / "dead_letter.jsonl").read_text().splitlines()]
    assert [d["origin"] for d in dead] == [f"{src}:4", f"{src}:9", f"{src}:10"]
    assert "kept-token share" in res.output


def test_filter_without_repository_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("{}\n")
    res = CliRunner().invoke(
        main, ["filter", str(src), "--repo", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "mira_manifest.json" in res.output


def test_filter_on_the_hostile_corpus_accounts_for_every_line(tmp_path: Path) -> None:
    from mira.settings import DocumentSettings
    from tests.fixtures.hostile import hostile_cases

    repo = tiny_repo(tmp_path / "repo")
    cases = hostile_cases("s1", DocumentSettings().max_bytes)
    src = tmp_path / "hostile.jsonl"
    src.write_bytes(b"\n".join(c.raw for c in cases) + b"\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["filter", str(src), "--repo", str(repo), "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["in"]
        == len(cases)
        == summary["accepted"] + summary["rejected"] + summary["dead_letter"]
    )
    expected: dict[str, int] = {}
    for c in cases:
        if c.reason is not None:
            expected[c.reason.value] = expected.get(c.reason.value, 0) + 1
    assert summary["dead_letter_reasons"] == expected
    scored = summary["accepted"] + summary["rejected"]
    assert scored == sum(c.reason is None for c in cases)
