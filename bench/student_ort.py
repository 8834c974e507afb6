"""Student inference on CPU: in-process onnxruntime (what `mira filter` uses) vs torch eager.

Both score the same tokenized stdlib documents (L=128, 2,048-char pre-cut) with the same student
(MiniLM-L6 + 8-anchor head), batch 32; best of 3 timed passes after a warm-up.  Appends a section
to docs/benchmarks.md.  Run: .venv/bin/python bench/student_ort.py [--docs 256]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scorer.ort_backend import OrtBackend  # noqa: E402
from scorer.tokenize import BatchTokenizer  # noqa: E402

from discovery.distill.student import Student, backbone_dir, load_backbone  # noqa: E402
from discovery.export.onnx import export_onnx, parity  # noqa: E402


def texts(n: int) -> list[str]:
    import sysconfig

    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    return [p.read_text("utf-8", "replace") for p in files[:n]]


def best_alternating(fns, runs: int = 3) -> list[float]:  # type: ignore[no-untyped-def]
    """Best time of each function over ``runs`` rounds, alternating (fair on a shared machine)."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = Student(load_backbone(), [1 / 8] * 8).eval()
    tok = BatchTokenizer(backbone_dir() / "tokenizer.json", 128, 2048)
    docs = texts(args.docs)
    batches = [tok.encode(docs[i:i + args.batch]) for i in range(0, len(docs), args.batch)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, path, *batches[0])
        diff = max(parity(model, path, ids, mask) for ids, mask in batches[:2])
        ort = OrtBackend({"m": path})

        def run_ort() -> None:
            for ids, mask in batches:
                ort.score("m", ids, mask)

        def run_torch() -> None:
            with torch.inference_mode():
                for ids, mask in batches:
                    model(torch.from_numpy(ids), torch.from_numpy(mask))

        t_ort, t_torch = best_alternating([run_ort, run_torch])
    write(len(docs), args.batch, t_ort, t_torch, diff)


def write(n: int, batch: int, t_ort: float, t_torch: float, diff: float) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = " ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    text = f"""
## Student inference on CPU: onnxruntime vs torch (bench/student_ort.py, {stamp})

Machine: {platform.node() or "vm"}, {__import__("os").cpu_count()} CPU cores (load average {load}
at the end: the machine is shared). MiniLM-L6 student, 8 anchors, L=128 (2,048-char pre-cut),
batch {batch}, {n} Python stdlib files; best of 3 alternating passes each; tokenization
excluded; onnxruntime without thread spinning.

| backend | docs/s |
|---|---:|
| torch eager, inference_mode (baseline) | {n / t_torch:,.0f} |
| onnxruntime in-process (`mira filter`) | {n / t_ort:,.0f} |

Ratio onnxruntime / torch: **{t_torch / t_ort:.2f}x**. ONNX-vs-torch max abs diff {diff:.1e}.
"""
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
