"""Local transformers teacher (CPU or GPU): batched generation with left padding.

The packaged SmolLM2 GGUF is converted once to a cached Hugging Face folder (see weights.py).
Every answer is decoded under its prompt's JSON Schema with xgrammar (``structured.py``).  On CPU
the linear layers are quantised to int8 (``torch.ao`` dynamic quantisation: the weights came
from a 4-bit GGUF, so nothing measurable is lost) unless ``quantize`` is False; measured here
1.7x faster prefill and 2.9x faster decode steps than fp32 (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from discovery.teacher.base import Prompt, Sampling, Teacher

log = logging.getLogger(__name__)


class LocalHFTeacher(Teacher):
    """A causal LM loaded with transformers from a folder (or the packaged SmolLM2 GGUF)."""

    guided = True

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        batch_size: int = 8,
        device: str = "cpu",
        threads: int | None = None,
        quantize: bool = True,
        **kw: Any,
    ):
        super().__init__(**kw)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from discovery.teacher.prefix import PrefixCache
        from discovery.teacher.structured import SchemaGrammars
        from discovery.teacher.weights import converted_dir, packaged_gguf

        # one thread per two cores: on a busy small machine more threads thrash (measured 6x)
        torch.set_num_threads(threads or max(1, (os.cpu_count() or 2) // 2))
        folder = model_dir or converted_dir(packaged_gguf())
        self._name = Path(folder).name
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model: Any = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
        self.quantized = quantize and device == "cpu"
        self.model: Any = _int8(model) if self.quantized else model.to(device)
        self.vocab_size = int(model.config.vocab_size)
        self.grammars = SchemaGrammars(self.tokenizer, self.vocab_size)
        self.prefixes = PrefixCache(self.model, self.tokenizer, device)
        self.device = device
        self.batch_size = batch_size
        self.generated_tokens = 0
        self.generate_seconds = 0.0

    @property
    def teacher_id(self) -> str:
        return f"local:{self._name}"

    def render(self, prompt: Prompt) -> str:
        """Chat template + generation prompt (the answer starts right after it)."""
        text = self.tokenizer.apply_chat_template(
            prompt.messages, tokenize=False, add_generation_prompt=True
        )
        return str(text)

    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        """Batches of similar length (less padding), answers in the prompts' order."""
        texts = [self.render(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: (len(texts[i]), i))
        out = [""] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            answers = self._generate(
                [texts[i] for i in idx], [prompts[i].json_schema(schema) for i in idx], sampling
            )
            for i, answer in zip(idx, answers, strict=True):
                out[i] = answer
        return out

    def _split(self, texts: Sequence[str]) -> tuple[list[int], Any, list[list[int]]]:
        """Shared prefix ids, its cache (None without a prefix) and each text's own ids."""
        prefix = self.prefixes.find(texts)
        ids, cache = self.prefixes.get(prefix) if prefix else ([], None)
        tails = [
            list(self.tokenizer(t[len(prefix) :], add_special_tokens=False)["input_ids"])
            for t in texts
        ]
        return ids, cache, tails

    def _generate(
        self, texts: Sequence[str], schemas: Sequence[dict[str, Any]], sampling: Sampling
    ) -> list[str]:
        from discovery.teacher.decode import decode

        started = time.perf_counter()
        prefix, cache, tails = self._split(texts)
        out = decode(
            self.model,
            prefix,
            cache,
            tails,
            [self.grammars.compile(s) for s in schemas],
            vocab_size=self.vocab_size,
            eos_ids=[int(self.tokenizer.eos_token_id)],
            pad_id=int(self.tokenizer.pad_token_id),
            max_new_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            seed=sampling.seed,
            device=self.device,
        )
        self.generate_seconds += time.perf_counter() - started
        self.generated_tokens += sum(len(o) for o in out)
        return [str(self.tokenizer.decode(o, skip_special_tokens=True)) for o in out]


def _int8(model: Any) -> Any:
    """Dynamic int8 quantisation of the linear layers (CPU)."""
    import torch

    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
