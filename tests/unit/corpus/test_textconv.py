"""Readers: troff man pages, HTML and notebooks become readable text."""

from __future__ import annotations

import json

import pytest

from mira.corpus.textconv import html_to_text, notebook_to_text, troff_to_text

MAN = r""".\" comment line
.TH GREP 1 2023 "GNU grep"
.SH NAME
grep \- print lines that match patterns
.SH SYNOPSIS
.B grep
[\fIOPTION\fR...] \fIPATTERNS\fR
.TP
.BR \-i ", " \-\-ignore\-case
Ignore case \(em really.
"""


def test_troff_renders_headings_fonts_and_escapes() -> None:
    text = troff_to_text(MAN)
    assert text.splitlines()[0] == "GREP(1)"
    assert "\n\nNAME\ngrep - print lines that match patterns\n\nSYNOPSIS\n" in text
    assert "[OPTION...] PATTERNS" in text
    assert "-i, --ignore-case" in text
    assert "Ignore case -- really." in text
    assert "comment" not in text and "\\f" not in text


def test_html_keeps_main_text_and_drops_scripts() -> None:
    page = (
        "<html><head><title>t</title><script>var x=1;</script></head><body>"
        "<nav>menu</nav><main><h1>Title</h1><p>Hello <b>world</b>.</p>"
        "<pre>fn main() {\n    x();\n}</pre></main><footer>foot</footer></body></html>"
    )
    text = html_to_text(page)
    assert "Title" in text and "Hello world." in text
    assert "fn main() {\n    x();\n}" in text
    assert "var x" not in text and "menu" not in text and "foot" not in text


def test_notebook_cells_become_markdown_and_fenced_code() -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "Some text"]},
            {"cell_type": "code", "source": "print(1)", "outputs": [{"text": "1"}]},
            {"cell_type": "code", "source": ""},
        ],
        "metadata": {"language_info": {"name": "python"}},
    }
    assert notebook_to_text(json.dumps(nb)) == "# Title\nSome text\n\n```python\nprint(1)\n```"


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", '{"cells": 3}'])
def test_notebook_rejects_non_notebooks(bad: str) -> None:
    with pytest.raises(ValueError):
        notebook_to_text(bad)
