"""Format features of a document: what it *is* (code, prose, Q&A, notebook, configuration).

Cheap statistics of the raw text (characters, lines, line endings, indentation, markers, line
kinds from ``lines.py``), each a bounded ratio or a log length, so a source's mean over sampled
documents describes its format whatever its topic.  Computed from the text alone: never from
``meta`` or source names.  ``CONCEPTS`` sorts the features into the aspects of format they
measure; the representation gives every concept the same weight (``represent.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from discovery.grouping.lines import (
    COMMENT,
    FENCE,
    KEYWORD,
    KV,
    PLAIN_WORD,
    QA,
    RULE,
    fence_mask,
    kind_shares,
)

MAX_CHARS = 4096  # features look at the start of a document, like the embedder

_STOP = frozenset(
    re.findall(
        r"\w+",
        "the a an of to and is in that it for as with be are this on by or not can you which from"
        " if will when your we at have has was use used so but all its there their these may",
    )
)
_HEADING = re.compile(r"^\s*(#{1,6}\s|[=\-~*]{3,}\s*$|[A-Z][A-Z0-9 \-]{2,}$)")
_BULLET = re.compile(r"^\s*([-*+\u2022]|\d+[.)])\s+\S")
_CODE_END = re.compile(r"[;{}()\[\]]\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_TOKEN = re.compile(r"\S+")
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*([._][\w$]+|[a-z][A-Z]\w*)+\W*$")
_ASSIGN = re.compile(r"[^=!<>]=[^=]")
_KV_LITERAL = re.compile(
    r"""^\s*["']?[\w.\-/@$]+["']?\s*(=|:|=>)\s*("[^"]*"|'[^']*'|[-+]?[\d.]+[\w%]*|true|false"""
    r"""|null|yes|no|on|off|[\w./:@~\-]+|[\[{]|)\s*[,;]?\s*(#.*)?$""",
    re.I,
)
_CALL = re.compile(r"[A-Za-z_]\w*\s?\(")


def _share(lines: Sequence[str], test: Callable[[str], object]) -> float:
    return sum(1 for x in lines if test(x)) / max(len(lines), 1)


def _chars(text: str) -> dict[str, float]:
    text = "\n".join(x for x in text.split("\n") if not RULE.match(x))
    n = max(len(text), 1)
    alpha = sum(c.isalpha() for c in text)

    def ratio(chars: str) -> float:
        return sum(c in chars for c in text) / n

    return {
        "alpha": alpha / n,
        "digit": sum(c.isdigit() for c in text) / n,
        "space": sum(c.isspace() for c in text) / n,
        "bracket": ratio("{}[]()"),
        "quote": ratio("\"'`"),
        "operator": ratio("=<>+*/&|!%^~"),
        "colon_semicolon": ratio(";:"),
        "sigil": ratio("$@\\#"),
        "upper": sum(c.isupper() for c in text) / max(alpha, 1),
        "question_marks": text.count("?") * 100 / n,
    }


def _layout(lines: list[str], full: list[str]) -> dict[str, float]:
    lengths = np.array([len(x) for x in full] or [0], dtype=float)
    mean = float(lengths.mean())
    return {
        "log_line_len": math.log1p(mean),
        "line_len_cv": float(lengths.std()) / max(mean, 1.0),
        "empty_lines": 1 - len(full) / max(len(lines), 1),
        "indented": _share(full, lambda x: x[:1] in (" ", "\t")),
        "tab_indented": _share(full, lambda x: x.startswith("\t")),
    }


def _line_shapes(full: list[str]) -> dict[str, float]:
    def ends(*tails: str) -> Callable[[str], bool]:
        return lambda x: x.rstrip().endswith(tails)

    return {
        "code_line_end": _share(full, _CODE_END.search),
        "sentence_end": _share(full, ends(".", "!", "?")),
        "colon_end": _share(full, ends(":")),
        "comma_end": _share(full, ends(",")),
        "key_value": _share(full, KV.match),
        "comment": _share(full, COMMENT.match),
        "heading": _share(full, _HEADING.match),
        "bullet": _share(full, _BULLET.match),
        "qa_marker": _share(full, QA.match),
        "question_line": _share(full, ends("?")),
        "fence": _share(full, FENCE.match),
        "assignment": _share(full, _ASSIGN.search),
        "long_word_line": _share(
            full, lambda x: len(_WORD.findall(x)) >= 8 and not _CODE_END.search(x)
        ),
        "keyword_line": _share(full, KEYWORD.match),
        "kv_literal": _share(full, _KV_LITERAL.match),
        "call": _share(full, _CALL.search),
        "rule_line": _share(full, RULE.match),
        "starts_bracket": float(bool(full) and full[0].lstrip()[:1] in "{["),
    }


def _fenced_share(lines: list[str]) -> float:
    """Share of non-empty lines inside closed ``` fences (notebook cells, markdown examples)."""
    pairs = [
        m for x, m in zip(lines, fence_mask(lines), strict=True) if m is not None and x.strip()
    ]
    return sum(bool(m) for m in pairs) / max(len(pairs), 1)


def _words(text: str) -> dict[str, float]:
    tokens = _TOKEN.findall(text)
    words = _WORD.findall(text)
    return {
        "plain_words": sum(bool(PLAIN_WORD.match(t)) for t in tokens) / max(len(tokens), 1),
        "stopwords": sum(w.lower() in _STOP for w in words) / max(len(words), 1),
        "word_len": float(np.mean([len(w) for w in words])) / 10 if words else 0.0,
        "identifiers": sum(bool(_IDENT.match(t)) for t in tokens) / max(len(tokens), 1),
    }


def feature_dict(text: str) -> dict[str, float]:
    """Every format feature of one document, by name."""
    text = text[:MAX_CHARS]
    lines = text.split("\n")
    full = [x for x in lines if x.strip()]
    return (
        _chars(text)
        | _layout(lines, full)
        | _line_shapes(full)
        | {"fenced_share": _fenced_share(lines)}
        | _words(text)
        | kind_shares(lines)
    )


FEATURE_NAMES: tuple[str, ...] = tuple(feature_dict(""))

# The aspect of format each feature measures (every feature in exactly one concept).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "code": (
        "keyword_line",
        "call",
        "code_line_end",
        "lines_code",
        "identifiers",
        "assignment",
        "operator",
        "bracket",
        "comment",
        "lines_comment",
    ),
    "prose": (
        "sentence_end",
        "stopwords",
        "plain_words",
        "long_word_line",
        "lines_prose",
        "alpha",
        "word_len",
    ),
    "qa": ("qa_marker", "question_line", "question_marks", "lines_qa"),
    "notebook": ("fenced_share", "lines_fenced", "fence", "prose_code_switches"),
    "config": (
        "kv_literal",
        "key_value",
        "lines_kv",
        "lines_literal",
        "lines_tag",
        "digit",
        "quote",
        "starts_bracket",
        "colon_end",
        "comma_end",
    ),
    "markup": ("heading", "rule_line", "lines_markup", "bullet", "lines_other"),
    "layout": (
        "log_line_len",
        "line_len_cv",
        "empty_lines",
        "indented",
        "tab_indented",
        "space",
        "upper",
        "sigil",
        "colon_semicolon",
        "lines_punct",
    ),
}


def features(texts: Sequence[str]) -> np.ndarray:
    """Feature rows [N, F] (columns in ``FEATURE_NAMES`` order) for ``texts``."""
    if not texts:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.array([list(feature_dict(t).values()) for t in texts], dtype=np.float64)
