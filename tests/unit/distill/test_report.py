import json
from pathlib import Path

from discovery.report import write_report
from mira.contracts import AnchorMetrics, StudentCard


def test_report_writes_plots_and_html(tmp_path: Path) -> None:
    card = StudentCard(
        group="code",
        anchors=["a", "b"],
        weights=[1.0, 0.0],
        weights_rule="r",
        rubric_version="r1",
        teacher="t",
        backbone="m",
        max_length=128,
        max_chars=2048,
        trainable_layers=0,
        seed=0,
        n_train=8,
        n_heldout=2,
        epochs=3,
        best_epoch=1,
        train_seconds=1.0,
        metrics={
            "a": AnchorMetrics(spearman=0.5, mae=1, baseline_mae=1.2, weight=1.0, n=2),
            "b": AnchorMetrics(spearman=-0.1, mae=1, baseline_mae=1.0, weight=0.0, n=2),
        },
    )
    (tmp_path / "students" / "code").mkdir(parents=True)
    (tmp_path / "students" / "code" / "student.json").write_text(card.model_dump_json())
    (tmp_path / "export").mkdir()
    rows = [
        {"source": s, "score": x, "tokens": 10} for s, x in [("s1", 1.0), ("s1", 2.0), ("s2", 3.0)]
    ]
    (tmp_path / "export" / "calibration.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n"
    )
    (tmp_path / "export" / "export.json").write_text(
        json.dumps(
            {
                "repo": "repo",
                "budget": 0.5,
                "kept_share": 0.5,
                "thresholds": {"s1": 1.5, "s2": 3.0},
                "per_source": {"s1": {"kept_share": 0.5}, "s2": {"kept_share": 1.0}},
                "models": {"mira_code": {"version": 1, "parity_max_abs_diff": 1e-7}},
            }
        )
    )
    summary = tmp_path / "summary.json"
    summary.write_text('{"in": 3}')
    page = write_report(tmp_path, summary)
    html = page.read_text()
    for png in ("scores_by_source.png", "agreement.png", "kept_share.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000 and png in html
    assert "mira filter summary" in html and "<td>code</td><td>a</td>" in html
