"""Resumable annotation cache (SQLite), keyed by (text hash, rubric version, teacher id).

Each finished document is committed at once, so a killed run loses at most its in-flight batch
and a rerun skips everything already answered.  Failed answers are stored too (with the reason),
so a rerun does not ask again unless ``retry_failed`` is set.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    text_hash TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    teacher TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL DEFAULT (julianday('now')),
    PRIMARY KEY (text_hash, rubric_version, teacher)
)
"""


class AnnotationCache:
    """A small key-value store of teacher answers; safe to reopen after a crash."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, text_hash: str, rubric_version: str, teacher: str) -> tuple[str, Any] | None:
        row = self._db.execute(
            "SELECT status, payload FROM answers WHERE text_hash=? AND rubric_version=? "
            "AND teacher=?",
            (text_hash, rubric_version, teacher),
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def put(
        self,
        text_hash: str,
        rubric_version: str,
        teacher: str,
        doc_id: str,
        status: str,
        payload: Any,
    ) -> None:
        """Store one answer and commit immediately."""
        self._db.execute(
            "INSERT OR REPLACE INTO answers (text_hash, rubric_version, teacher, doc_id, status, "
            "payload) VALUES (?, ?, ?, ?, ?, ?)",
            (text_hash, rubric_version, teacher, doc_id, status, json.dumps(payload)),
        )
        self._db.commit()

    def count(self, rubric_version: str | None = None) -> dict[str, int]:
        sql = "SELECT status, COUNT(*) FROM answers"
        args: tuple[str, ...] = ()
        if rubric_version:
            sql += " WHERE rubric_version=?"
            args = (rubric_version,)
        return dict(self._db.execute(sql + " GROUP BY status", args).fetchall())

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AnnotationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
