"""Counts of a ``mira filter`` run: per (source, group) documents and tokens, dead letters by
reason, and the table printed at the end."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from mira.contracts import ScoredDocument
from mira.tokens import approx_tokens

OUTPUTS = ("accepted", "rejected", "dead_letter")


class Summary:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"docs": 0, "tokens": 0, "kept_docs": 0, "kept_tokens": 0}
        )
        self.dead: Counter[str] = Counter()
        self.count: Counter[str] = Counter()

    def add_dead(self, reason: str) -> None:
        self.dead[reason] += 1
        self.count["dead_letter"] += 1

    def add_scored(self, doc: ScoredDocument) -> str:
        """Count one scored document; returns its output (``accepted`` or ``rejected``)."""
        row = self.rows[(doc.source, doc.mira.group)]
        keep = doc.mira.decision == "accept"
        tokens = approx_tokens(doc.text)
        row["docs"] += 1
        row["tokens"] += tokens
        row["kept_docs"] += keep
        row["kept_tokens"] += tokens * keep
        kind = "accepted" if keep else "rejected"
        self.count[kind] += 1
        return kind

    def check(self) -> None:
        """in = accepted + rejected + dead-letter, or the run lost records (a bug)."""
        out = sum(self.count[k] for k in OUTPUTS)
        if out != self.count["in"]:
            raise RuntimeError(f"lost records: in {self.count['in']} != out {out}")

    def as_dict(self) -> dict[str, Any]:
        tokens = sum(r["tokens"] for r in self.rows.values())
        kept = sum(r["kept_tokens"] for r in self.rows.values())
        return {
            "in": self.count["in"],
            **{k: self.count[k] for k in OUTPUTS},
            "dead_letter_reasons": dict(self.dead),
            "tokens": tokens,
            "kept_tokens": kept,
            "kept_token_share": kept / tokens if tokens else 0.0,
            "per_source": [
                {
                    "source": s,
                    "group": g,
                    **r,
                    "kept_share": r["kept_tokens"] / r["tokens"] if r["tokens"] else 0,
                }
                for (s, g), r in sorted(self.rows.items())
            ],
        }

    def table(self) -> str:
        d = self.as_dict()
        lines = [f"{'source':28} {'group':14} {'docs':>6} {'tokens':>10} {'kept_share':>10}"]
        for r in d["per_source"]:
            lines.append(
                f"{r['source'][:28]:28} {r['group'][:14]:14} {r['docs']:>6} "
                f"{r['tokens']:>10} {r['kept_share']:>10.3f}"
            )
        lines.append(
            f"in {d['in']} = accepted {d['accepted']} + rejected {d['rejected']} + "
            f"dead-letter {d['dead_letter']} {d['dead_letter_reasons'] or ''}; "
            f"kept-token share {d['kept_token_share']:.3f}"
        )
        return "\n".join(lines)
