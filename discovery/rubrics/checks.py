"""Is a teacher proposal a real quality dimension?  Invalid ones never become anchors.

A proposal is rejected, with the first reason that applies (counted in ``discover.json``):

* ``template_leak``: a field holds JSON or template syntax (``{``, ``}``, ``"name":``), i.e. the
  model wrote the answer's skeleton into a value (e.g. ``high}, {'description':``);
* ``schema_echo``: every word of the name is a word of the prompt's schema or instructions
  (``low_high_low``, ``low_low``, ``high_description``, ``low_4``, ``quality``);
* ``unreadable_name``: the name is not a few plain, different words (digits, symbols, no vowel,
  too short, a repeated word, a run of six consonants, a word that the MiniLM vocabulary can
  only cut into more than four pieces: ``clarity_2``, ``x9``, ``zzzz``, ``perl_perl``,
  ``dudayjkdjjdudjj``, ``idemlibalitias``);
* ``empty``: the description has fewer than two content words (words of three or more letters
  that are neither schema words nor stop words) or none beyond the name's, high or low has no
  content word, or high and low are the same text.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable

from mira.contracts import Anchor, ProposedDimension

REASONS = ("template_leak", "schema_echo", "unreadable_name", "empty")

# Words of the prompt templates (discovery/prompts.py) and of the answers' JSON schemas: a name
# made only of these repeats the question, not a dimension (a unit test keeps them in sync).
SCHEMA_WORDS = frozenset(
    re.findall(
        r"\w+",
        "name names description descriptions high low dimension dimensions score scores rationale "
        "anchor anchors aspect aspects quality qualities json object objects key keys value values "
        "list snake case noun document documents good poor shows show what which whether decide "
        "like one such itself give propose different useful train training language model answer "
        "item items field fields string text type types rate excellent integer order given short "
        "first then dimension source below",
    )
)
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the of to and or in on for with is are be it its this that as by at from not no "
        "very more most less few many much can will does do has have each",
    )
)
_LEAK = re.compile(r"[{}\[\]]|[\"']\s*:|\b(name|description|high|low)[\"']")
_NAME = re.compile(r"^[A-Za-z][A-Za-z _\-]*$")
_WORD = re.compile(r"[A-Za-z]+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _content(text: str) -> list[str]:
    return [w for w in _words(text) if len(w) >= 3 and w not in SCHEMA_WORDS | _STOP]


_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-xz]{6,}")
MAX_PIECES = 4  # real words split into at most 4 WordPiece pieces ("reproducibility"): measured


@functools.cache
def _vocab() -> frozenset[str]:
    """The WordPiece vocabulary of the packaged MiniLM tokenizer (30,522 entries)."""
    from discovery.grouping.embed import packaged_embedder_dir

    with (packaged_embedder_dir() / "tokenizer.json").open(encoding="utf-8") as fh:
        return frozenset(json.load(fh)["model"]["vocab"])


def pieces(word: str) -> int:
    """How many WordPiece pieces ``word`` splits into (greedy longest match; 99: no split)."""
    vocab, n, start = _vocab(), 0, 0
    while start < len(word):
        end = len(word)
        while (
            end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in vocab
        ):
            end -= 1
        if end == start:
            return 99
        n, start = n + 1, end
    return n


def readable_name(name: str) -> bool:
    """One to five plain, different words of letters, at least one of four letters; each with a
    vowel, no run of six consonants, and at most ``MAX_PIECES`` vocabulary pieces (gibberish
    such as ``dudayjkdjjdudjj`` or ``idemlibalitias`` falls apart into many short pieces)."""
    words = [w.lower() for w in re.split(r"[ _\-]+", name.strip()) if w]
    return (
        bool(_NAME.match(name.strip()))
        and 1 <= len(words) <= 5
        and len(set(words)) == len(words)
        and any(len(w) >= 4 for w in words)
        and all(re.search(r"[aeiouy]", w) for w in words if len(w) >= 3)
        and not any(_CONSONANT_RUN.search(w) for w in words)
        and all(pieces(w) <= MAX_PIECES for w in words)
    )


def problem(p: ProposedDimension) -> str | None:
    """The reason ``p`` is not a real dimension, or None when it is one."""
    fields = (p.name, p.description, p.high, p.low)
    if any(_LEAK.search(f) for f in fields):
        return "template_leak"
    if all(w in SCHEMA_WORDS for w in _words(p.name)):
        return "schema_echo"
    if not readable_name(p.name):
        return "unreadable_name"
    content = _content(p.description)
    if len(content) < 2 or not set(content) - set(_words(p.name)):
        return "empty"
    if not _content(p.high) or not _content(p.low):
        return "empty"
    if p.high.strip().lower() == p.low.strip().lower():
        return "empty"
    return None


def split(proposals: Iterable[ProposedDimension]) -> tuple[list[ProposedDimension], Counter[str]]:
    """Valid proposals (in order) and the number of invalid ones per reason."""
    valid: list[ProposedDimension] = []
    invalid: Counter[str] = Counter()
    for p in proposals:
        reason = problem(p)
        if reason is None:
            valid.append(p)
        else:
            invalid[reason] += 1
    return valid, invalid


def anchor_problem(anchor: Anchor) -> str | None:
    """The same checks on a finished anchor (its name, description and first examples)."""
    return problem(
        ProposedDimension.model_construct(
            name=anchor.name,
            description=anchor.description,
            high=anchor.high[0] if anchor.high else "",
            low=anchor.low[0] if anchor.low else "",
        )
    )
