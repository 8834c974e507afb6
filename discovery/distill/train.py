"""Training loop of the student: frozen-prefix features once, then the tail + head with early stop.

With ``trainable_layers = t`` the first ``6 - t`` encoder layers are frozen, so their output is
computed once per document (the main CPU saving); each epoch only runs the last ``t`` layers.
The head's bias starts at the training mean, so epoch 0 is the mean-predictor baseline.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mira.engine.tokenize import BatchTokenizer
from mira.settings import DistillSettings

log = logging.getLogger(__name__)


@dataclass
class Fit:
    model: Any
    heldout_pred: np.ndarray
    epochs: int
    best_epoch: int


def _features(model: Any, ids: Any, mask: Any, start: int, batch: int) -> tuple[Any, Any]:
    """Frozen hidden states entering layer ``start`` and the pooled embedding-layer output."""
    import torch

    hidden, surface = [], []
    with torch.no_grad():
        for i in range(0, ids.shape[0], batch):
            h, s = model.prefix(ids[i : i + batch], mask[i : i + batch], start)
            hidden.append(h)
            surface.append(s)
    return torch.cat(hidden), torch.cat(surface)


def _loss(pred: Any, y: Any, m: Any) -> Any:
    return (((pred - y) ** 2) * m).sum() / m.sum().clamp(min=1.0)


def _predict(model: Any, feats: tuple[Any, Any], mask: Any, start: int, batch: int) -> Any:
    import torch

    hidden, surface = feats
    model.eval()
    with torch.no_grad():
        return torch.cat(
            [
                model.tail(
                    hidden[i : i + batch], mask[i : i + batch], start, surface[i : i + batch]
                )
                for i in range(0, hidden.shape[0], batch)
            ]
        )


def _optimizer(model: Any, start: int, lr: float) -> Any:
    import torch

    groups = [{"params": list(model.head.parameters()), "lr": lr}]
    layers = [p for layer in model.bert.encoder.layer[start:] for p in layer.parameters()]
    if layers:
        groups.append({"params": layers, "lr": lr / 100})
    return torch.optim.AdamW(groups, weight_decay=0.01)


def _setup(
    texts: Sequence[str], mean: np.ndarray, cfg: DistillSettings
) -> tuple[Any, Any, Any, int, str]:
    import torch

    from discovery.distill.student import Student, backbone_dir, load_backbone

    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    tok = BatchTokenizer(backbone_dir() / "tokenizer.json", cfg.max_length, cfg.max_chars)
    ids, mask = (torch.from_numpy(a).to(device) for a in tok.encode(list(texts)))
    k = len(mean)
    model = Student(load_backbone(), [1.0 / k] * k).to(device)
    for p in model.bert.parameters():
        p.requires_grad_(False)
    start = model.n_layers - max(0, min(cfg.trainable_layers, model.n_layers))
    for layer in model.bert.encoder.layer[start:]:
        for p in layer.parameters():
            p.requires_grad_(True)
    with torch.no_grad():
        model.head.bias.copy_(torch.from_numpy(mean.astype(np.float32)))
        model.head.weight.mul_(0.1)
    feats = _features(model, ids, mask, start, cfg.batch_size * 2)
    return model, feats, mask, start, device


def _ridge(
    model: Any,
    feats: tuple[Any, Any],
    mask: Any,
    y: np.ndarray,
    m: np.ndarray,
    train: np.ndarray,
    stop: np.ndarray,
    held: np.ndarray,
) -> Fit:
    """Frozen encoder: the head by closed-form ridge (``discovery/ridge.py``)."""
    import torch

    from discovery.distill.ridge import fit_head
    from discovery.distill.student import mean_pool

    x = torch.cat([feats[1], mean_pool(feats[0], mask)], dim=-1).cpu().numpy()
    # leave-one-out picks alpha, so the validation rows fit too (never the held-out ones)
    rows = np.union1d(train, np.setdiff1d(stop, held))
    w, b, alphas = fit_head(x, y, m, rows)
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(w).to(model.head.weight))
        model.head.bias.copy_(torch.from_numpy(b).to(model.head.bias))
    log.info(
        "ridge head on %d rows, alpha per anchor by leave-one-out: %s",
        len(rows),
        ", ".join(f"{a:g}" for a in alphas),
    )
    pred = (x[held] @ w.T + b).astype(np.float32)
    return Fit(model.cpu().eval(), pred, 0, 0)


def train_student(
    texts: Sequence[str],
    y: np.ndarray,
    m: np.ndarray,
    train: np.ndarray,
    stop: np.ndarray,
    held: np.ndarray,
    cfg: DistillSettings,
) -> Fit:
    """Train on rows ``train`` with early stopping on the loss of rows ``stop``; returns the best
    model (eval mode, CPU) and its predictions for rows ``held``."""
    import torch

    mean = (y[train] * m[train]).sum(0) / np.maximum(m[train].sum(0), 1)
    model, feats, mask, start, device = _setup(texts, mean, cfg)
    if start >= model.n_layers:
        return _ridge(model, feats, mask, y, m, train, stop, held)
    yt, mt = torch.from_numpy(y).to(device), torch.from_numpy(m).to(device)
    tr, ho = torch.from_numpy(train).to(device), torch.from_numpy(stop).to(device)
    opt = _optimizer(model, start, cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)

    def rows(idx: Any) -> tuple[Any, Any]:
        return feats[0][idx], feats[1][idx]

    best = (_loss(_predict(model, rows(ho), mask[ho], start, 64), yt[ho], mt[ho]).item(), 0)
    best_state, epoch = copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        for idx in tr[torch.randperm(len(tr), generator=gen).to(device)].split(cfg.batch_size):
            opt.zero_grad()
            pred = model.tail(feats[0][idx], mask[idx], start, feats[1][idx])
            _loss(pred, yt[idx], mt[idx]).backward()
            opt.step()
        loss = _loss(_predict(model, rows(ho), mask[ho], start, 64), yt[ho], mt[ho]).item()
        log.debug("epoch %d early-stopping mse %.4f", epoch, loss)
        if loss < best[0] - 1e-6:
            best, best_state = (loss, epoch), copy.deepcopy(model.state_dict())
        elif epoch - best[1] >= cfg.patience:
            break
    model.load_state_dict(best_state)
    hi = torch.from_numpy(held).to(device)
    pred = _predict(model, rows(hi), mask[hi], start, 64).cpu().numpy()
    log.info("trained %d epochs, best epoch %d (early-stopping mse %.4f)", epoch, best[1], best[0])
    return Fit(model.cpu().eval(), pred, epoch, best[1])


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
