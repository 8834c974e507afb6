"""Splitters: FAQs become one question + answer per document."""

from __future__ import annotations

from mira.corpus.split import pod_qa, rst_qa, whole

RST = """\
===
FAQ
===

General
=======

Why is the sky blue?
--------------------

Rayleigh scattering.

More text.

How do I install it?
--------------------

Use pip.

Not a question
--------------

Ignored.
"""

POD = """\
=head1 NAME

perlfaqX - test

=head1 Data

=head2 How do I round a number?

Use sprintf.

=head2 Why is int() broken?

It is not.

=cut
"""


def test_whole_is_one_part() -> None:
    assert whole("abc") == [("", "abc")]


def test_rst_qa_splits_questions_only() -> None:
    parts = rst_qa(RST)
    assert [p for p, _ in parts] == ["q0002", "q0003"]
    assert parts[0][1] == "Q: Why is the sky blue?\n\nA: Rayleigh scattering.\n\nMore text."
    assert parts[1][1] == "Q: How do I install it?\n\nA: Use pip."


def test_pod_qa_splits_head2() -> None:
    parts = pod_qa(POD)
    assert [text for _, text in parts] == [
        "Q: How do I round a number?\n\nA: Use sprintf.",
        "Q: Why is int() broken?\n\nA: It is not.",
    ]
    assert rst_qa("no headings at all") == []
