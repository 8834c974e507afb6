"""Tokenization off the event loop: one thread (default) or N worker processes.

One core tokenizes a few hundred long documents per second (SERVICES.md), so a scorer that must
feed a GPU uses ``workers > 1`` processes (spawned, never forked: the parent runs gRPC threads).
Texts are cut before they are sent (``mira.engine.tokenize.pre_cut``), so big documents never
cross the process boundary whole.  A broken pool (a worker killed) is rebuilt by ``restart``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mira.engine.tokenize import BatchTokenizer

_WORKER_TOK: BatchTokenizer | None = None


def _init_worker(path: str, max_length: int, max_chars: int) -> None:
    global _WORKER_TOK
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one native thread per worker process
    _WORKER_TOK = BatchTokenizer(Path(path), max_length, max_chars)


def _encode_in_worker(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    assert _WORKER_TOK is not None, "worker not initialised"
    return _WORKER_TOK.encode(texts)


class TokenizerPool:
    """Async ``encode`` over a thread or a process pool (the tokenizer stage of the engine)."""

    def __init__(self, tokenizer_json: Path, max_length: int, max_chars: int, workers: int) -> None:
        self.key = (str(tokenizer_json), max_length, max_chars)
        self.workers = workers
        self.max_length = max_length
        self.max_chars = max_chars
        self._local = BatchTokenizer(Path(tokenizer_json), max_length, max_chars)
        self._exec = self._executor()

    def _executor(self) -> Executor:
        if self.workers <= 1:
            return ThreadPoolExecutor(1, thread_name_prefix="tokenize")
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=self.key,
        )

    async def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        loop = asyncio.get_running_loop()
        if self.workers <= 1:
            return await loop.run_in_executor(self._exec, self._local.encode, list(texts))
        return await loop.run_in_executor(self._exec, _encode_in_worker, list(texts))

    def restart(self) -> None:
        """Replace a broken pool with a fresh one (infrastructure failure, not a document's)."""
        self._exec.shutdown(wait=False, cancel_futures=True)
        self._exec = self._executor()

    def close(self) -> None:
        self._exec.shutdown(wait=False, cancel_futures=True)
