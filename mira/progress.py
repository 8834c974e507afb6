"""Progress bars for anything that takes more than a few seconds (stderr, off when not a TTY)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "doc"
) -> Iterator[T]:
    """Wrap an iterable in a progress bar showing rate and ETA."""
    yield from tqdm(
        items,
        desc=desc,
        total=total,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        dynamic_ncols=True,
    )


def bar(*, desc: str, total: int | None = None, unit: str = "doc") -> tqdm:  # type: ignore[type-arg]
    """A manual progress bar (call ``update(n)``)."""
    return tqdm(
        desc=desc,
        total=total,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
