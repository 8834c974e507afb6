"""Split one file's text into documents: whole file, or one question + answer per document.

A splitter takes the file text and returns ``(part, text)`` pairs; ``part`` names the piece inside
its file (empty for a whole file) and goes into the document id and ``meta.part``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Part = tuple[str, str]
Splitter = Callable[[str], list[Part]]

_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


def whole(text: str) -> list[Part]:
    """The whole file is one document."""
    return [("", text)]


def _rst_headings(lines: list[str]) -> list[int]:
    """Indices of reStructuredText section titles (a title line followed by an underline)."""
    found: list[int] = []
    for i in range(len(lines) - 1):
        title, under = lines[i].rstrip(), lines[i + 1].rstrip()
        if (
            title.strip()
            and not _RST_UNDERLINE.match(title)
            and _RST_UNDERLINE.match(under)
            and len(under) >= len(title.strip())
        ):
            found.append(i)
    return found


def _qa_doc(question: str, answer: str) -> str:
    return f"Q: {question.strip()}\n\nA: {answer.strip()}"


def rst_qa(text: str) -> list[Part]:
    """FAQ in reStructuredText: every section whose title ends with '?' is one Q/A document."""
    lines = text.splitlines()
    heads = _rst_headings(lines)
    parts: list[Part] = []
    for n, start in enumerate(heads):
        title = lines[start].strip()
        if not title.endswith("?"):
            continue
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        answer = "\n".join(lines[start + 2 : end])
        parts.append((f"q{n:04d}", _qa_doc(title, answer)))
    return parts


_POD_HEAD = re.compile(r"^=head([1-4])\s+(.*)$")


def pod_qa(text: str) -> list[Part]:
    """perlfaq-style POD: every ``=head2`` question is one Q/A document (up to the next head)."""
    lines = text.splitlines()
    heads = [(i, m) for i, line in enumerate(lines) if (m := _POD_HEAD.match(line))]
    parts: list[Part] = []
    for n, (start, match) in enumerate(heads):
        if match.group(1) != "2":
            continue
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        body = "\n".join(ln for ln in lines[start + 1 : end] if ln.strip() != "=cut")
        parts.append((f"q{n:04d}", _qa_doc(match.group(2), body)))
    return parts


SPLITTERS: dict[str, Splitter] = {"whole": whole, "rst_qa": rst_qa, "pod_qa": pod_qa}
