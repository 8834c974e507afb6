"""Layout of a discovery run directory, and reading/writing its artifacts."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mira.contracts import Anchor, Annotation, GroupingArtifact, RubricArtifact, load_artifact


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def grouping(self) -> Path:
        return self.root / "grouping.json"

    @property
    def cache(self) -> Path:
        return self.root / "cache.sqlite"

    @property
    def report(self) -> Path:
        return self.root / "discover.json"

    def rubric(self, group: str) -> Path:
        return self.root / "rubrics" / f"{group}.json"

    def anchors(self, group: str) -> Path:
        return self.root / "rubrics" / f"{group}.anchors.jsonl"

    def annotations(self, group: str) -> Path:
        return self.root / "annotations" / f"{group}.jsonl"

    def read_grouping(self) -> GroupingArtifact:
        if not self.grouping.is_file():
            raise FileNotFoundError(f"{self.grouping} is missing: run `mira discover groups` first")
        return GroupingArtifact.model_validate_json(self.grouping.read_text())

    def read_rubric(self, group: str) -> RubricArtifact:
        path = self.rubric(group)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: run `mira discover rubrics` first")
        return RubricArtifact.model_validate_json(path.read_text())

    def write_rubric(self, rubric: RubricArtifact) -> None:
        write_model(self.rubric(rubric.group), rubric)
        write_jsonl(self.anchors(rubric.group), rubric.anchors)

    def read_annotations(self, group: str) -> list[Annotation]:
        with self.annotations(group).open(encoding="utf-8") as fh:
            return [
                load_artifact(Annotation, line, f"{self.annotations(group)}:{n}")
                for n, line in enumerate(fh, 1)
                if line.strip()
            ]

    def update_report(self, stage: str, data: dict[str, Any]) -> None:
        report = json.loads(self.report.read_text()) if self.report.is_file() else {}
        report[stage] = data
        atomic_write(self.report, json.dumps(report, indent=2, sort_keys=True) + "\n")


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_model(path: Path, model: BaseModel) -> None:
    atomic_write(path, model.model_dump_json(indent=2) + "\n")


def write_jsonl(path: Path, rows: list[Annotation] | list[Anchor]) -> None:
    atomic_write(path, "".join(r.model_dump_json() + "\n" for r in rows))
