"""The training-token estimate that budgets count: UTF-8 bytes / 4, rounded up.

Budgets count what a document costs in mid-training (its whole text, not the student's truncated
view).  Counting exactly would need the target LLM's tokenizer over every whole text; BPE
tokenizers average about 4 bytes per token, and this estimate is cheap, deterministic and the
same in the corpus report, calibration (``mira export``) and ``mira filter`` summaries.
"""

from __future__ import annotations

BYTES_PER_TOKEN = 4


def tokens_of_bytes(nbytes: int) -> int:
    """Estimated tokens of ``nbytes`` bytes of UTF-8 text (ceil(bytes / 4))."""
    return -(-nbytes // BYTES_PER_TOKEN)


def approx_tokens(text: str) -> int:
    """Estimated training tokens of a whole document (at least 1)."""
    return max(1, tokens_of_bytes(len(text.encode("utf-8", "surrogatepass"))))
