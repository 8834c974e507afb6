"""Structured decoding for the local backend with xgrammar (the engine vLLM uses).

Each prompt's JSON Schema (``discovery/teacher/schemas.py``, or the answer contract's own
schema) is compiled once per tokenizer into a grammar; ``decode.py`` masks every token that would
leave it, so the answer is valid JSON of that schema by construction (unless cut by the token
limit).  The model still chooses every name, word and score the schema leaves open.
"""

from __future__ import annotations

import json
from typing import Any


class SchemaGrammars:
    """Compiles JSON Schemas for one tokenizer (cached by schema text)."""

    def __init__(self, tokenizer: Any, vocab_size: int):
        import xgrammar as xgr

        self._xgr = xgr
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        self._compiler = xgr.GrammarCompiler(info)
        self._cache: dict[str, Any] = {}

    def compile(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._cache:
            # one line, single spaces: no room for runaway whitespace from a small model
            self._cache[key] = self._compiler.compile_json_schema(
                key, any_whitespace=False, strict_mode=True
            )
        return self._cache[key]
