"""Snapshot and roll back the model repository on its volume (run by the mira-export and
mira-rollback Jobs; standard library only, so any mira image can run it).

Volume layout::

    repository/          Triton model repository, mira_manifest.json, mira_tokenizer.json
    history/<UTC time>/  mira_manifest.json, mira_tokenizer.json, <model>/config.pbtxt
    attic/<UTC time>/    what a rollback moved out (model versions, the rolled-back manifest)

``snapshot`` runs before ``mira export``. ``rollback`` undoes the newest export: it moves the
model versions that the current manifest names and the snapshot does not out of the repository
(so Triton's "latest" policy falls back too), restores configs and tokenizer, and replaces the
manifest last, atomically. Scorers then switch back on their next manifest poll.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "mira_manifest.json"
TOKENIZER = "mira_tokenizer.json"
CONFIG = "config.pbtxt"


class HistoryError(Exception):
    """Nothing to do or an inconsistent volume: one line, exit 1."""


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _atomic_copy(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _models(manifest: dict[str, Any]) -> dict[str, int]:
    """model name -> version named by the manifest."""
    return {g["model"]: int(g["version"]) for g in manifest["groups"].values()}


def snapshot(volume: Path) -> Path | None:
    """Copy manifest, tokenizer and every config.pbtxt into history/<time>/ (None: no repo)."""
    repo = volume / "repository"
    if not (repo / MANIFEST).is_file():
        _say(f"no {repo / MANIFEST} yet: nothing to snapshot")
        return None
    history = volume / "history"
    history.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=history))
    for name in (MANIFEST, TOKENIZER):
        if (repo / name).is_file():
            shutil.copyfile(repo / name, stage / name)
    for config in sorted(repo.glob(f"*/{CONFIG}")):
        (stage / config.parent.name).mkdir()
        shutil.copyfile(config, stage / config.parent.name / CONFIG)
    final = history / _stamp()
    stage.rename(final)
    _say(f"snapshot {final}")
    return final


def _previous(volume: Path, current: bytes, attic: Path) -> Path:
    """Newest snapshot whose manifest differs from the current one (same ones go to attic/)."""
    history = volume / "history"
    snaps = (
        sorted(
            (p for p in history.iterdir() if p.is_dir() and not p.name.startswith(".")),
            reverse=True,
        )
        if history.is_dir()
        else []
    )
    for snap in snaps:
        if (snap / MANIFEST).read_bytes() != current:
            return snap
        attic.mkdir(parents=True, exist_ok=True)
        snap.rename(attic / f"unchanged-snapshot-{snap.name}")
    raise HistoryError(f"no snapshot in {history} differs from the current manifest")


def rollback(volume: Path) -> Path:
    """Restore the newest differing snapshot; returns the attic folder of this rollback."""
    repo = volume / "repository"
    if not (repo / MANIFEST).is_file():
        raise HistoryError(f"no manifest at {repo / MANIFEST}")
    current_bytes = (repo / MANIFEST).read_bytes()
    attic = volume / "attic" / _stamp()
    snap = _previous(volume, current_bytes, attic)
    current = _models(json.loads(current_bytes))
    previous = _models(json.loads((snap / MANIFEST).read_bytes()))
    attic.mkdir(parents=True, exist_ok=True)
    for model, version in sorted(current.items()):
        if model in previous and version > previous[model]:
            src = repo / model / str(version)
            if src.is_dir():
                (attic / model).mkdir(exist_ok=True)
                src.rename(attic / model / str(version))
                _say(f"moved {model} version {version} to {attic / model}")
    for config in sorted(snap.glob(f"*/{CONFIG}")):
        if (repo / config.parent.name).is_dir():
            _atomic_copy(config, repo / config.parent.name / CONFIG)
    if (snap / TOKENIZER).is_file():
        _atomic_copy(snap / TOKENIZER, repo / TOKENIZER)
    shutil.copyfile(repo / MANIFEST, attic / f"rolled-back-{MANIFEST}")
    _atomic_copy(snap / MANIFEST, repo / MANIFEST)
    snap.rename(attic / f"restored-snapshot-{snap.name}")
    _say(f"restored {snap.name}: " + ", ".join(f"{m} v{v}" for m, v in sorted(previous.items())))
    return attic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["snapshot", "rollback"])
    parser.add_argument("--volume", type=Path, required=True, help="mount of the model volume")
    args = parser.parse_args(argv)
    try:
        if args.command == "snapshot":
            snapshot(args.volume)
        else:
            rollback(args.volume)
    except (HistoryError, OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"repo_history {args.command}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
