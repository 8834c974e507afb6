"""The scoring loop a user writes by hand (the baseline of bench/filter_vs_loop.py).

    python bench/handwritten_loop.py IN.jsonl OUT.jsonl MODEL_DIR HEAD.pt [--max-length 128]

transformers' AutoTokenizer + AutoModel, a linear head over the mean-pooled embedding-layer
and last-layer outputs (the student's features), torch, batches of 32,
threshold 0, one JSON line out per document.  Deliberately plain: no mira code.
"""

from __future__ import annotations

import argparse
import json

import torch
from transformers import AutoModel, AutoTokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("model_dir")
    ap.add_argument("head")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModel.from_pretrained(args.model_dir).eval()
    state = torch.load(args.head)
    head = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    head.load_state_dict(state)
    with open(args.inp) as src, open(args.out, "w") as dst:
        docs = [json.loads(line) for line in src if line.strip()]
        for i in range(0, len(docs), args.batch):
            batch = docs[i : i + args.batch]
            enc = tokenizer(
                [d["text"] for d in batch],
                truncation=True,
                max_length=args.max_length,
                padding=True,
                return_tensors="pt",
            )
            with torch.no_grad():
                out = model(**enc, output_hidden_states=True)
                mask = enc["attention_mask"].unsqueeze(-1).float()
                embedded, last = out.hidden_states[0], out.last_hidden_state
                pooled = torch.cat(
                    [(h * mask).sum(1) / mask.sum(1) for h in (embedded, last)], dim=-1
                )
                scores = head(pooled).mean(-1)
            for doc, score in zip(batch, scores.tolist(), strict=True):
                doc["score"] = score
                doc["decision"] = "accept" if score >= 0 else "reject"
                dst.write(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main()
