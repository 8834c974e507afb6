"""A MiniLM-L6 student repository for the benchmarks, made with the exporter's own pieces.

The packaged all-MiniLM-L6-v2 encoder with a seeded linear head over mean pooling (K anchors),
exported to ONNX like ``mira export`` does (fused graph, parity-checked), a config.pbtxt of the
chosen flavour, the tokenizer, and a manifest whose per-source characters per token are measured
on the given documents.  Scores are meaningless; the work per document is the real student's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

K = 5
GROUP = "bench"
MODEL = f"mira_{GROUP}"


def student(seed: int = 0) -> Any:
    import torch

    from discovery.distill.student import Student, load_backbone

    torch.manual_seed(seed)
    return Student(load_backbone(), [1.0 / K] * K).eval()


def build(
    repo: Path,
    docs: list[Any],
    max_length: int,
    max_chars: int,
    flavour: str = "python",
    quantize: str = "none",
) -> Path:
    """Write the repository; ``docs`` are Document objects (their sources and texts);
    ``quantize``: the exporter's ``export.quantize`` (its int8 check on up to 256 of ``docs``)."""
    from discovery.distill.student import backbone_dir
    from discovery.export.calibrate import chars_per_token
    from discovery.export.onnx import export_onnx, parity
    from discovery.export.quantize import choose
    from discovery.export.repository import MODEL_PY, TOKENIZER_FILE
    from discovery.export.triton_config import config_pbtxt
    from mira.engine.tokenize import BatchTokenizer
    from mira.repository import sha256_file

    model = student()
    tok = BatchTokenizer(backbone_dir() / "tokenizer.json", max_length, max_chars)
    ids, mask = tok.encode([d.text for d in docs[:16]])
    vdir = repo / MODEL / "1"
    vdir.mkdir(parents=True)
    export_onnx(model, vdir / "model.onnx", ids[:2], mask[:2])
    parity(model, vdir / "model.onnx", ids, mask)
    if quantize != "none":
        q_ids, q_mask = tok.encode([d.text for d in docs[:256]])
        graph, _ = choose(vdir / "model.onnx", q_ids, q_mask, quantize, 0.5, 0.0)  # type: ignore[arg-type]
        graph.replace(vdir / "model.onnx")
    shutil.copyfile(MODEL_PY, vdir / "model.py")
    (repo / MODEL / "config.pbtxt").write_text(config_pbtxt(MODEL, K, flavour))  # type: ignore[arg-type]
    shutil.copyfile(backbone_dir() / "tokenizer.json", repo / TOKENIZER_FILE)
    per, default = chars_per_token(docs, tok)
    sources = sorted({d.source for d in docs})
    manifest = {
        "groups": {
            GROUP: {
                "model": MODEL,
                "version": 1,
                "anchors": [f"a{i}" for i in range(K)],
                "weights": [1.0 / K] * K,
                "rubric_version": "bench",
                "files": {
                    f"{MODEL}/1/{n}": sha256_file(vdir / n) for n in ("model.onnx", "model.py")
                },
            }
        },
        "source_groups": dict.fromkeys(sources, GROUP),
        "fallback_group": GROUP,
        "thresholds": dict.fromkeys(sources, float(np.float32(0.0))),
        "default_threshold": 0.0,
        "budget": 0.5,
        "tokenizer": TOKENIZER_FILE,
        "max_length": max_length,
        "max_chars": max_chars,
        "chars_per_token": per,
        "default_chars_per_token": default,
    }
    path = repo / "mira_manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path
