"""Human summary of a corpus build (log lines) and the ``--require-sources`` check."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from mira.contracts import CorpusReport, CorpusSkipReason

log = logging.getLogger(__name__)


def _skips(skipped: Mapping[CorpusSkipReason, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(skipped.items())) or "none"


def log_report(report: CorpusReport) -> None:
    """One log line per source, one per missing source (with its Debian package), a total."""
    for src in report.sources:
        if src.status == "missing":
            log.warning(
                "source %-18s MISSING: no files here (install Debian package %s)",
                src.source,
                src.package or "?",
            )
            continue
        level = logging.INFO if src.status == "ok" else logging.WARNING
        log.log(
            level,
            "source %-18s %5d docs %9d bytes  ~%8d tokens  truncated=%d  of %d files; skipped: %s",
            src.source,
            src.docs,
            src.bytes,
            src.approx_tokens,
            src.truncated,
            src.candidates,
            _skips(src.skipped),
        )
    log.info(
        "corpus: %d docs from %d/%d sources; skipped: %s",
        report.docs,
        report.sources_ok,
        len(report.sources),
        _skips(report.skipped),
    )


def too_few_sources(report: CorpusReport, required: int) -> str | None:
    """An error line when fewer than ``required`` sources produced documents, else None."""
    if report.sources_ok >= required:
        return None
    absent = [s for s in report.sources if s.docs == 0]
    hints = ", ".join(f"{s.source} ({s.package or 'no package'})" for s in absent) or "none"
    return (
        f"only {report.sources_ok} source(s) have documents, {required} required; "
        f"without documents: {hints}; `make apt` installs deploy/local/apt-packages.txt"
    )
