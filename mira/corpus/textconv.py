"""Turn on-disk formats (troff man pages, HTML, Jupyter notebooks) into readable plain text.

Each function takes the decoded file text and returns plain text; they never raise on odd markup
(unknown requests and escapes are dropped), except ``notebook_to_text`` which raises ``ValueError``
for a file that is not notebook JSON (the builder counts it as ``bad_format``).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

# --------------------------------------------------------------------------- troff (man pages)

_NAMED_GLYPHS = {
    "aq": "'",
    "dq": '"',
    "em": "--",
    "en": "-",
    "hy": "-",
    "mi": "-",
    "lq": '"',
    "rq": '"',
    "oq": "'",
    "cq": "'",
    "bu": "*",
    "co": "(c)",
    "rg": "(R)",
    "tm": "(TM)",
    "mu": "x",
    "ga": "`",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "lh": "<=",
    "rh": "=>",
    "<=": "<=",
    ">=": ">=",
}
_ESCAPES = re.compile(
    r"\\\((?P<glyph>..)|\\\[(?P<long>[^\]]*)\]|\\f(?:\(..|\[[^\]]*\]|.)|\\\*(?:\(..|\[[^\]]*\]|.)"
    r"|\\s[+-]?\d+|\\[&|^:%]|\\(?P<lit>.)"
)
_LITERAL = {
    "-": "-",
    "e": "\\",
    "\\": "\\",
    " ": " ",
    "~": " ",
    "0": " ",
    "c": "",
    "'": "'",
    "`": "`",
    ".": ".",
}
_HEADINGS = {"SH", "SS"}
_BREAKS = {"PP", "LP", "P", "TP", "sp", "br", "RS", "RE", "HP", "nf", "fi", "EX", "EE", "in"}
_FONT_MACROS = {"B", "I", "R", "BI", "BR", "IB", "IR", "RB", "RI", "SM", "SB", "UR", "MT", "OP"}


def _unescape(line: str) -> str:
    def repl(match: re.Match[str]) -> str:
        if match.group("glyph"):
            return _NAMED_GLYPHS.get(match.group("glyph"), "")
        if match.group("long") is not None:
            return _NAMED_GLYPHS.get(match.group("long"), "")
        lit = match.group("lit")
        return _LITERAL.get(lit, "") if lit is not None else ""

    return _ESCAPES.sub(repl, line)


def _macro_args(rest: str) -> list[str]:
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', rest)]


def troff_to_text(source: str) -> str:
    """Render man(7) troff roughly as ``man`` would show it, without layout."""
    out: list[str] = []
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"", ".\\}", '\\"')) or raw in (".", "'"):
            continue
        if not raw.startswith((".", "'")):
            out.append(_unescape(raw))
            continue
        name, _, rest = raw[1:].strip().partition(" ")
        args = _macro_args(_unescape(rest))
        if name == "TH" and args:
            out.append(f"{args[0]}({args[1] if len(args) > 1 else ''})")
        elif name in _HEADINGS:
            out.extend(["", " ".join(args)])
        elif name in _BREAKS:
            out.append("")
        elif name == "IP":
            out.extend(["", args[0]] if args else [""])
        elif name in _FONT_MACROS:
            glue = "" if len(name) == 2 else " "
            out.append(glue.join(args))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------- HTML

_SKIP_TAGS = {"script", "style", "nav", "head", "noscript", "svg", "button", "template"}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "main",
    "header",
}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "pre":
            self._pre += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(source: str) -> str:
    """Visible text of an HTML page (its <main> if any; scripts, styles, nav dropped)."""
    main = re.search(r"<main\b.*?</main>", source, re.S | re.I)
    parser = _TextExtractor()
    parser.feed(main.group(0) if main else source)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------- notebooks


def _cell_source(cell: dict[str, object]) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(str(s) for s in src)
    return str(src)


def notebook_to_text(source: str) -> str:
    """Markdown cells as text, code cells fenced as ```python blocks; outputs dropped."""
    try:
        nb = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError("no 'cells' list")
    lang = str(nb.get("metadata", {}).get("language_info", {}).get("name", "python"))
    blocks: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        body = _cell_source(cell).strip()
        if not body:
            continue
        if cell.get("cell_type") == "code":
            blocks.append(f"```{lang}\n{body}\n```")
        else:
            blocks.append(body)
    return "\n\n".join(blocks)
