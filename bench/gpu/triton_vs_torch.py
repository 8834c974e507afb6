"""One GPU: the student in the real tritonserver, fed by mira's tokenizer and client, vs raw torch.

    python bench/gpu/triton_vs_torch.py --out DIR [--lengths 128 512] [--docs 30000]

(bench/gpu/run.sh prepares a GPU machine and runs this; ``--device cpu --docs 256`` is a dry
run on any machine.)  A MiniLM-L6-shaped student (6 x 384, K anchors, seeded weights) is served
by tritonserver's python backend in bf16 torch (2 GPU instances, dynamic batching; the config is
the exporter's, from ``discovery.export.triton_config``).  Per max_length, on the same texts
(Python standard library files, pre-cut as the scorer cuts them) and batches:
  tokenize    mira's TokenizerPool alone (``--tokenizer-workers`` processes)
  triton      pre-tokenized batches through mira's TritonBackend (``--in-flight`` requests)
  engine      Engine.infer: the tokenizer pool and the Triton client together (the scorer's
              work minus Kafka)
  torch       the same weights, bf16, the same pre-tokenized batches, no server (the ceiling)
Writes results.json and results.md to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
K = 5
MODEL = "mira_gpu"
MAX_CHARS = {128: 2048, 256: 2048, 512: 4096}


def texts(n: int) -> list[str]:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    pool = [t for f in files if len(t := f.read_text("utf-8", "replace")) > 200]
    return [pool[i % len(pool)][(i // len(pool)) * 50 :] for i in range(n)]


def student(config_json: Path, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig.from_json_file(str(config_json))
    bert = BertModel(config, add_pooling_layer=False).eval()
    head = torch.nn.Linear(config.hidden_size, K)
    state = {f"bert.{k}": v for k, v in bert.state_dict().items()}
    state.update(
        {
            "head.weight": head.weight.data,
            "head.bias": head.bias.data,
            "agg": torch.full((K,), 1.0 / K),
        }
    )
    return config, {k: v.contiguous() for k, v in state.items()}


def build_repo(
    repo: Path, config_json: Path, instances: int, gpu: bool, serve: str
) -> dict[str, Any]:
    import shutil

    from safetensors.torch import save_file
    from tritonclient.grpc import model_config_pb2 as pb

    from discovery.export.triton_config import model_config

    _, state = student(config_json)
    vdir = repo / MODEL / "1"
    vdir.mkdir(parents=True, exist_ok=True)
    if serve == "torch":
        save_file(state, str(vdir / "weights.safetensors"))
        shutil.copyfile(config_json, vdir / "config.json")
        shutil.copyfile(Path(__file__).with_name("torch_model.py"), vdir / "model.py")
    else:  # the exporter's own artifact: ONNX + its onnxruntime model.py (CPU dry runs)
        export_student(state, config_json, vdir)
    cfg = model_config(MODEL, K, "python", instances=instances, max_queue_delay_us=500)
    if gpu:
        cfg.instance_group[0].kind = pb.ModelInstanceGroup.KIND_GPU
    from google.protobuf import text_format

    (repo / MODEL / "config.pbtxt").write_text(text_format.MessageToString(cfg))
    return state


def export_student(state: dict[str, Any], config_json: Path, vdir: Path) -> None:
    import shutil

    import numpy as np
    from transformers import BertConfig, BertModel

    from discovery.distill.student import Student
    from discovery.export.onnx import export_onnx
    from discovery.export.repository import MODEL_PY

    bert = BertModel(BertConfig.from_json_file(str(config_json)), add_pooling_layer=False)
    model = Student(bert, [1.0 / K] * K).eval()
    model.load_state_dict(state)
    ids = np.full((2, 16), 1000, np.int64)
    export_onnx(model, vdir / "model.onnx", ids, np.ones_like(ids))
    shutil.copyfile(MODEL_PY, vdir / "model.py")


async def _tokenize_all(pool: Any, chunks: list[list[str]]) -> list[Any]:
    return list(await asyncio.gather(*(pool.encode(c) for c in chunks)))


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


async def measure_length(
    args: argparse.Namespace, url: str, length: int, docs: list[str], state: dict[str, Any]
) -> dict[str, float]:
    from mira.engine.backend import ModelRef
    from mira.engine.engine import Engine, RetryPolicy
    from mira.engine.tokenize import BatchTokenizer, pre_cut
    from mira.engine.tokenpool import TokenizerPool
    from mira.engine.triton import Deadline, TritonBackend

    tok = BatchTokenizer(args.tokenizer, length, MAX_CHARS[length])
    sample = docs[:500]
    ratio = sorted(
        len(t[: MAX_CHARS[length]]) / max(1, n)
        for t, n in zip(
            sample, tok.count_full([t[: MAX_CHARS[length]] for t in sample]), strict=True
        )
    )[int(0.9 * len(sample))]
    cut = [pre_cut(t, ratio, length, MAX_CHARS[length], 1.3) for t in docs]
    chunks = [cut[i : i + args.batch] for i in range(0, len(cut), args.batch)]
    out: dict[str, float] = {"chars_per_token": ratio}
    pool = TokenizerPool(args.tokenizer, length, MAX_CHARS[length], args.tokenizer_workers)
    await _tokenize_all(pool, chunks[: args.tokenizer_workers * 2])  # start the workers
    t0 = time.perf_counter()
    batches = await _tokenize_all(pool, chunks)
    out["tokenize"] = rate(len(cut), time.perf_counter() - t0)
    backend = TritonBackend(url, args.in_flight, Deadline(30.0, 10.0, 1e-3), {})
    ref = ModelRef(MODEL, 1)
    await asyncio.gather(*(backend.score(ref, *b) for b in batches[: args.in_flight]))  # warm
    t0 = time.perf_counter()
    await asyncio.gather(*(backend.score(ref, *b) for b in batches))
    out["triton"] = rate(len(cut), time.perf_counter() - t0)
    engine = Engine(backend, pool, RetryPolicy(0.1, 5.0, 3, 3))
    gate = asyncio.Semaphore(args.in_flight * 2)

    async def one(chunk: list[str]) -> None:
        async with gate:
            await engine.infer(ref, K, chunk, "gpu")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in chunks))
    out["engine"] = rate(len(cut), time.perf_counter() - t0)
    out["torch"] = raw_torch(args, state, batches)
    pool.close()
    await backend.close()
    return out


def raw_torch(args: argparse.Namespace, state: dict[str, Any], batches: list[Any]) -> float:
    import torch
    from transformers import BertConfig, BertModel

    gpu = args.device == "cuda"
    dev, dtype = ("cuda", torch.bfloat16) if gpu else ("cpu", torch.float32)
    bert = BertModel(BertConfig.from_json_file(str(args.model_config)), add_pooling_layer=False)
    bert.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("bert.")})
    bert.to(dev, dtype).eval()
    head = torch.nn.Linear(bert.config.hidden_size, K).to(dev, dtype)

    def run(subset: list[Any]) -> None:
        with torch.inference_mode():
            for ids, mask in subset:
                x = torch.from_numpy(ids).to(dev, non_blocking=True)
                m = torch.from_numpy(mask).to(dev, non_blocking=True)
                hidden = bert(input_ids=x, attention_mask=m).last_hidden_state
                w = m.unsqueeze(-1).to(hidden.dtype)
                head((hidden * w).sum(1) / w.sum(1)).float().cpu()
        if gpu:
            torch.cuda.synchronize()

    run(batches[:4])
    t0 = time.perf_counter()
    run(batches)
    return rate(sum(len(i) for i, _ in batches), time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mira-gpu"))
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--lengths", type=int, nargs="+", default=[512, 128], choices=[128, 256, 512])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--in-flight", type=int, default=16)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--tokenizer-workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    ap.add_argument("--tokenizer", type=Path, required=True, help="the student's tokenizer.json")
    ap.add_argument("--model-config", type=Path, required=True, help="BertConfig config.json")
    ap.add_argument(
        "--serve",
        choices=["torch", "onnx"],
        default="torch",
        help="torch: bf16 torch in the python backend; onnx: the exporter's ONNX "
        "with its onnxruntime model.py (CPU: dry runs on a machine without a GPU)",
    )
    args = ap.parse_args()
    from mira.services.triton import TritonServer

    args.out.mkdir(parents=True, exist_ok=True)
    state = build_repo(
        args.work / "repo", args.model_config, args.instances, args.device == "cuda", args.serve
    )
    docs = texts(args.docs)
    results: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(),
        "lengths": {},
    }
    with TritonServer(args.work / "repo", args.work / "triton", ready_timeout_s=300) as server:
        server.load_model(MODEL, timeout_s=300)
        for length in args.lengths:
            row = asyncio.run(measure_length(args, server.grpc_url, length, docs, state))
            results["lengths"][str(length)] = row
            print(json.dumps({"max_length": length, **row}), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(report(args, results))
    print(report(args, results))


def machine() -> dict[str, Any]:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"gpu": gpu, "cpus": os.cpu_count(), "torch": torch.__version__}


def report(args: argparse.Namespace, results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"GPU {m['gpu']}, {m['cpus']} CPU cores, torch {m['torch']}; {args.docs} docs "
        f"(stdlib files, pre-cut), batch {args.batch}, in-flight {args.in_flight}, "
        f"{args.instances} Triton instances (python backend, "
        f"{'bf16 torch' if args.serve == 'torch' else 'the exported ONNX, onnxruntime CPU'}), "
        f"{args.tokenizer_workers} tokenizer processes.",
        "",
        "| L | tokenize docs/s | Triton (our client) docs/s | engine (tokenizer + client) "
        "docs/s | raw torch docs/s | engine / torch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for length, r in results["lengths"].items():
        lines.append(
            f"| {length} | {r['tokenize']:,.0f} | {r['triton']:,.0f} | "
            f"{r['engine']:,.0f} | {r['torch']:,.0f} | "
            f"{r['engine'] / r['torch']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
