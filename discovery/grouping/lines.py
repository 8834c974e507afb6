"""What each line of a document is: code, prose, key/value, markup, a Q/A marker, a notebook cell.

Rules, first match wins (``line_kind``); text between closed ``` fences is ``fenced`` (notebook
code cells, examples in Markdown).  Per document: the share of each kind, and the *role shares*
that name a group (code, prose, qa, notebook, config).
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^\s*(```|~~~)")
QA = re.compile(r"^\s*(Q|A|Question|Answer)\s*[:.)]\s*", re.I)
RULE = re.compile(r"^\s*([=\-~^*+#_`:.])\1{2,}\s*$")  # heading underlines, table rules
COMMENT = re.compile(r"^\s*(#|//|/\*|\*|--|;|%|<!--)")
KV = re.compile(r"^\s*[\"']?[\w.\-/@$\[\]]+[\"']?\s*(=|:(\s|$))")
KEYWORD = re.compile(
    r"^\s*(if|for|foreach|while|return|def|class|function|import|from|#include|#define|#if"
    r"|#ifdef|#ifndef|#endif|sub|my|our|use|func|package|public|private|protected|static|const"
    r"|let|var|else|elif|try|catch|except|case|switch|struct|typedef|namespace|template|void"
    r"|int|unsigned|char|defer|local|echo|fi|then|done|endif|endfunction|unset"
    r"|macro|raise|throw|yield|async|await)\b"
)
PLAIN_WORD = re.compile(r"^[A-Za-z][a-z']*[.,;:!?]?$")
_TAG = re.compile(r"^\s*</?[!?]?[A-Za-z][\w:.-]*(\s|>|/>|$)")
_PAIR = re.compile(r"^\s*[\w.@$\-]+\s+[^\s(){};=,]+\s*[,;]?$")
_ONLY_PUNCT = re.compile(r"^[\s\W]*$")
_MARKUP = re.compile(
    r"^\s*(\.\. [\w|:-]+|:\w+:`|=(head\d|item|over|back|pod|cut|encoding|for|begin|end)\b)"
)
_LITERAL = re.compile(
    r"""^\s*(("[^"]*"|'[^']*'|-?\d[\d.eE+\-]*|true|false|null|None)\s*[,\]}]*\s*)+$"""
)

LINE_KINDS = (
    "fenced",
    "qa",
    "markup",
    "comment",
    "tag",
    "code",
    "kv",
    "literal",
    "prose",
    "punct",
    "other",
)
_PROSE_SIDE = frozenset({"prose", "qa"})
_CODE_SIDE = frozenset({"fenced", "code", "kv", "literal"})

# Which line kinds make each role (the names groups are given).
ROLES: dict[str, tuple[str, ...]] = {
    "code": ("code", "comment", "punct"),
    "prose": ("prose", "other", "markup"),
    "config": ("kv", "literal", "tag"),
    "qa": ("qa",),
    "notebook": ("fenced",),
}


def line_kind(line: str, in_fence: bool) -> str:
    """What one non-empty line is (the first matching rule wins)."""
    if in_fence:
        return "fenced"
    if QA.match(line):
        return "qa"
    if RULE.match(line) or _MARKUP.match(line):
        return "markup"
    if COMMENT.match(line):
        return "comment"
    if _TAG.match(line):
        return "tag"
    if KEYWORD.match(line):
        return "code"
    if (KV.match(line) or _PAIR.match(line)) and "(" not in line:
        return "kv"
    if line.rstrip().endswith((";", "{", "}", ")", "(")):
        return "code"
    if _LITERAL.match(line):
        return "literal"
    if _ONLY_PUNCT.match(line):
        return "punct"
    words = line.split()
    plain = sum(bool(PLAIN_WORD.match(w)) for w in words)
    if len(words) >= 4 and plain >= 0.6 * len(words):
        return "prose"
    return "other"


def fence_mask(lines: list[str]) -> list[bool | None]:
    """Per line: None for a fence marker, True inside a *closed* fence, else False."""
    mask: list[bool | None] = [False] * len(lines)
    opened: int | None = None
    for i, x in enumerate(lines):
        if not FENCE.match(x):
            continue
        mask[i] = None
        if opened is None:
            opened = i
        else:
            mask[opened + 1 : i] = [True] * (i - opened - 1)
            opened = None
    return mask


def kind_shares(lines: list[str]) -> dict[str, float]:
    """Share of each line kind among non-empty lines, plus ``prose_code_switches``: how often
    the text switches between prose and code (per 10 lines, capped at 1; notebooks and tutorials
    alternate, code files and manuals rarely do)."""
    counts = dict.fromkeys(LINE_KINDS, 0)
    last, switches = "", 0
    for x, inside in zip(lines, fence_mask(lines), strict=True):
        if inside is None or not x.strip():
            continue
        kind = line_kind(x, inside)
        counts[kind] += 1
        side = "p" if kind in _PROSE_SIDE else "c" if kind in _CODE_SIDE else ""
        if side and last and side != last:
            switches += 1
        last = side or last
    total = max(sum(counts.values()), 1)
    out = {f"lines_{k}": counts[k] / total for k in LINE_KINDS}
    out["prose_code_switches"] = min(10 * switches / total, 1.0)
    return out


def role_shares(shares: dict[str, float]) -> dict[str, float]:
    """Role -> share of lines, from ``kind_shares`` output (or a mean of several)."""
    return {role: sum(shares[f"lines_{k}"] for k in kinds) for role, kinds in ROLES.items()}


def role_name(roles: dict[str, float]) -> str:
    """The role a profile shows: Q/A markers or notebook cells when present in earnest, else the
    largest of code, prose and config."""
    if roles["qa"] >= 0.05:
        return "qa"
    if roles["notebook"] >= 0.3:
        return "notebook"
    return max(("code", "prose", "config"), key=lambda r: (roles[r], r))
