"""Local transformers teacher (CPU or GPU): batched generation with left padding.

The packaged SmolLM2 GGUF is converted once to a cached Hugging Face folder (see weights.py).
The assistant's answer is started with the prompt's ``prefix`` (the opening of the JSON object),
which keeps a tiny model on the schema; the returned text includes that prefix.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from discovery.teacher.base import Prompt, Sampling, Teacher
from discovery.teacher.guide import GuideState, Lit

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
        **kw: Any,
    ):
        super().__init__(**kw)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from discovery.teacher.weights import converted_dir, packaged_gguf

        # one thread per two cores: on a busy small machine more threads thrash (measured 6x)
        torch.set_num_threads(threads or max(1, (os.cpu_count() or 2) // 2))
        folder = model_dir or converted_dir(packaged_gguf())
        self._name = Path(folder).name
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model: Any = AutoModelForCausalLM.from_pretrained(str(folder))
        self.model: Any = model.to(device).eval()
        self.device = device
        self.batch_size = batch_size
        self.generated_tokens = 0
        self.generate_seconds = 0.0
        self._compiler: Any = None

    @property
    def teacher_id(self) -> str:
        return f"local:{self._name}"

    @staticmethod
    def start(prompt: Prompt) -> str:
        """The forced start of the answer: the guide's first literal, else the prefix."""
        if prompt.guide and isinstance(prompt.guide[0], Lit):
            return prompt.guide[0].text
        return prompt.prefix

    def render(self, prompt: Prompt) -> str:
        """Chat template + generation prompt + the forced answer start."""
        text = self.tokenizer.apply_chat_template(
            prompt.messages, tokenize=False, add_generation_prompt=True
        )
        return str(text) + self.start(prompt)

    def complete(
        self, prompts: Sequence[Prompt], schema: type[BaseModel], sampling: Sampling
    ) -> list[str]:
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            texts = self._generate(chunk, sampling)
            out.extend(self.start(p) + t for p, t in zip(chunk, texts, strict=True))
        return out

    def _guide(self, prompts: Sequence[Prompt], prompt_len: int) -> tuple[list[Any], int]:
        """Logits processors and a new-token bound for guided prompts (all or none guided)."""
        if not all(p.guide and isinstance(p.guide[0], Lit) for p in prompts):
            return [], 0
        from discovery.teacher.guided import Compiler, GuideProcessor

        if self._compiler is None:
            self._compiler = Compiler(self.tokenizer)
            self._compiler.safe = self._compiler.safe.to(self.device)
        compiled = [self._compiler.compile(p.guide or ()) for p in prompts]
        states = [GuideState(c, start=1) for c in compiled]
        bound = max(self._compiler.bound(c) for c in compiled)
        eos = int(self.tokenizer.eos_token_id)
        return [GuideProcessor(states, self._compiler.safe, eos, prompt_len)], bound

    def _generate(self, prompts: Sequence[Prompt], sampling: Sampling) -> list[str]:
        import torch
        from transformers import LogitsProcessorList

        texts = [self.render(p) for p in prompts]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        processors, bound = self._guide(prompts, int(enc["input_ids"].shape[1]))
        kwargs: dict[str, Any] = {
            "max_new_tokens": bound or sampling.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "logits_processor": LogitsProcessorList(processors),
        }
        if sampling.temperature > 0:
            torch.manual_seed(sampling.seed)
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=0.95)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        started = time.perf_counter()
        with torch.inference_mode():
            gen = self.model.generate(**enc, **kwargs)
        new = gen[:, enc["input_ids"].shape[1] :]
        self.generate_seconds += time.perf_counter() - started
        self.generated_tokens += int((new != self.tokenizer.pad_token_id).sum())
        return list(self.tokenizer.batch_decode(new, skip_special_tokens=True))
