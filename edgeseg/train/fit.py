"""``fit``: the whole ``edgeseg train`` job — data, model, optimiser, epochs, checkpoints, resume.

Every epoch writes ``last.pt`` (with optimiser, scheduler, epoch and RNG state, for ``--resume``)
and, when validation mIoU improves, ``best.pt``; ``history.jsonl`` gets one line per epoch.
Data order depends only on ``seed + epoch``, so a resumed run sees the same batches. Under
``torchrun`` each rank trains on its share of that order with DDP and only rank 0 validates and
writes (:mod:`edgeseg.train.distributed`).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeseg.atomic import atomic_path
from edgeseg.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from edgeseg.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_dataloader,
    build_dataset,
    compute_class_weights,
    eval_transforms,
    train_transforms,
)
from edgeseg.data.classes import background_ids
from edgeseg.data.subsets import (
    IndexedDataset,
    PartiallyLabeled,
    RepeatedDataset,
    read_label_list,
)
from edgeseg.errors import CheckpointError
from edgeseg.metrics import SegMetrics
from edgeseg.models import create_model, pretrained_cfgs
from edgeseg.runlock import run_lock
from edgeseg.train import distributed
from edgeseg.train.config import TrainConfig
from edgeseg.train.cutmix import CutMix
from edgeseg.train.distributed import Dist
from edgeseg.train.loop import evaluate, set_backbone_frozen, set_bn_momentum, train_one_epoch
from edgeseg.train.objective import Objective, SupervisedObjective, has_aux_head
from edgeseg.train.optim import build_optimizer, build_scheduler


@dataclass
class TrainResult:
    best_miou: float
    best_epoch: int
    best_path: Path
    last_path: Path
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def native_size(dataset) -> tuple[int, int]:
    """(H, W) of the dataset's first image (untransformed PIL): the default training size."""
    image, _ = dataset[0]
    return image.height, image.width


def normalization(cfg: TrainConfig) -> tuple[list[float], list[float]]:
    """Mean/std the initial weights were trained with: an edgeseg checkpoint's metadata or a
    weight tag's config; ImageNet's otherwise (torchvision's convention)."""
    if cfg.weights and Path(cfg.weights).is_file():
        with contextlib.suppress(CheckpointError):
            meta = load_checkpoint(cfg.weights).meta
            return list(meta.mean), list(meta.std)
    for tag, backbone in ((cfg.weights, False), (cfg.backbone_weights, True)):
        pretrained = pretrained_cfgs(cfg.arch, backbone=backbone).get(tag or "")
        if pretrained is not None:
            return list(pretrained.mean), list(pretrained.std)
    return list(IMAGENET_MEAN), list(IMAGENET_STD)


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])}


def _restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), None))


@dataclass
class Run:
    """Everything one training run holds; ``fit`` builds it for training, ``distill`` for
    distillation (another objective, data and recipe), and ``fit_run`` runs either."""

    cfg: TrainConfig
    device: torch.device
    model: torch.nn.Module
    train_set: Any
    val_set: Any
    objective: Objective
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    meta: CheckpointMeta
    evaluate_fn: Callable[[Run], SegMetrics] | None = None  # default: mIoU on val_set
    dist: Dist = field(default_factory=Dist)
    step: torch.nn.Module | None = None  # DDP(model + objective) under torchrun


@dataclass
class Data:
    """The datasets of a run and the size and normalisation they were built with."""

    train_raw: Any
    train_set: Any
    val_set: Any
    size: tuple[int, int]
    mean: list[float]
    std: list[float]
    labeled_raw: Any = None  # the images whose labels are used (``--labels``); None: all

    @property
    def labeled(self) -> Any:
        """What class weights are counted on: only labels the run may use."""
        return self.train_raw if self.labeled_raw is None else self.labeled_raw


def build_data(
    cfg: TrainConfig, train_spec: str | None = None, keep_unlabeled: bool = False
) -> Data:
    """Train (augmented) and val (resized) datasets of ``cfg.data`` in ``cfg``'s normalisation;
    ``train_spec`` trains on another dataset (unlabeled images) and validates on ``cfg.data``.
    With ``cfg.labels``: the labelled images repeated to the split's length, or with
    ``keep_unlabeled`` (distillation) the whole split, unlabelled masks hidden
    (:mod:`edgeseg.data.subsets`)."""
    train_raw = build_dataset(train_spec or cfg.data, split="train")
    size = cfg.size or native_size(train_raw)
    mean, std = normalization(cfg)
    fg = background_ids(train_raw.info.classes, cfg.background) if cfg.foreground_only else None
    train_tf = train_transforms(
        size, mean=mean, std=std, scale=cfg.scale, foreground=fg, color_jitter=cfg.color_jitter
    )
    train_set = build_dataset(train_spec or cfg.data, "train", train_tf)
    val_tf = eval_transforms(size, mean=mean, std=std, foreground=fg)
    val_set = build_dataset(cfg.data, "val", val_tf)
    data = Data(train_raw, train_set, val_set, tuple(size), mean, std)
    if cfg.labels is not None:
        labeled = read_label_list(cfg.labels, train_raw)
        data.labeled_raw = IndexedDataset(train_raw, labeled)
        data.train_set = (
            PartiallyLabeled(train_set, labeled)
            if keep_unlabeled
            else RepeatedDataset(IndexedDataset(train_set, labeled), len(train_set))
        )
    return data


def steps_per_epoch(cfg: TrainConfig, train_set, world_size: int = 1) -> int:
    steps = max(1, len(train_set) // world_size // cfg.batch_size)  # drop_last=True
    if cfg.limit_train_batches is not None:
        steps = max(1, min(steps, cfg.limit_train_batches))
    return steps


def make_run(
    cfg: TrainConfig,
    device: torch.device,
    model: torch.nn.Module,
    data: Data,
    objective: Objective,
    meta: CheckpointMeta,
    train_set: Any = None,
    dist: Dist | None = None,
) -> Run:
    """Optimiser over the model *and* the objective's own parameters, schedule, AMP scaler;
    under torchrun the two wrapped in one DDP module."""
    dist = dist or Dist()
    objective = objective.to(device)
    train_set = data.train_set if train_set is None else train_set
    optimizer = build_optimizer(torch.nn.ModuleList([model, objective]), cfg)
    steps = steps_per_epoch(cfg, train_set, dist.world_size)
    scheduler = build_scheduler(optimizer, cfg, steps)
    scaler = torch.amp.GradScaler("cuda") if (cfg.amp and device.type == "cuda") else None
    return Run(
        cfg,
        device,
        model,
        train_set,
        data.val_set,
        objective,
        optimizer,
        scheduler,
        scaler,
        meta,
        dist=dist,
        step=distributed.wrap(model, objective, dist, device),
    )


def create_student(cfg: TrainConfig, num_classes: int, device: torch.device) -> torch.nn.Module:
    """The model being trained (``edgeseg train``'s, or ``distill``'s student), on ``device``."""
    model = create_model(
        cfg.arch,
        num_classes=num_classes,
        weights=cfg.weights,
        backbone_weights=cfg.backbone_weights,
    ).to(device)
    set_bn_momentum(model, cfg.bn_momentum)
    return model


def _prepare(cfg: TrainConfig) -> Run:
    seed_everything(cfg.seed)
    dist, device = distributed.setup(resolve_device(cfg.device))
    data = build_data(cfg)
    info = data.train_raw.info
    num_classes = len(info.classes)
    model = create_student(cfg, num_classes, device)
    class_weights = None
    if cfg.class_weights != "none":
        class_weights = compute_class_weights(data.labeled, num_classes, method=cfg.class_weights)
        class_weights = class_weights.to(device)
    meta = CheckpointMeta(
        arch=cfg.arch,
        num_classes=num_classes,
        classes=list(info.classes),
        palette=[list(c) for c in info.palette],
        mean=data.mean,
        std=data.std,
        input_size=list(data.size),
        dataset=cfg.data,
        recipe=cfg.as_recipe(),
        aux_loss=has_aux_head(model),
    )
    objective = SupervisedObjective(class_weights, cfg.aux_weight, CutMix(cfg.cutmix))
    return make_run(cfg, device, model, data, objective, meta, dist=dist)


def _train_epoch(run: Run, epoch: int) -> dict[str, Any]:
    cfg, dist = run.cfg, run.dist
    frozen = epoch < cfg.freeze_backbone_until
    set_backbone_frozen(run.model, frozen)
    loader = build_dataloader(
        run.train_set,
        cfg.batch_size,
        shuffle=True,
        workers=cfg.workers,
        seed=cfg.seed * 1000 + epoch,
        drop_last=True,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    started = time.perf_counter()
    loss = train_one_epoch(
        run.model,
        loader,
        run.optimizer,
        run.scheduler,
        run.device,
        run.objective,
        frozen_backbone=frozen,
        scaler=run.scaler,
        limit=cfg.limit_train_batches,
        progress=cfg.progress and dist.main,
        description=f"epoch {epoch + 1}/{cfg.epochs}",
        step=run.step,
    )
    distributed.sync_buffers(dist, run.model, run.objective)
    loss = distributed.mean_over_ranks(loss, dist, run.device)
    return {"epoch": epoch + 1, "loss": loss, "train_seconds": time.perf_counter() - started}


def _validate(run: Run) -> SegMetrics:
    if run.evaluate_fn is not None:
        return run.evaluate_fn(run)
    cfg = run.cfg
    loader = build_dataloader(run.val_set, cfg.batch_size, shuffle=False, workers=cfg.workers)
    return evaluate(
        run.model,
        loader,
        run.meta.num_classes,
        run.device,
        classes=run.meta.classes,
        limit=cfg.limit_val_batches,
        progress=cfg.progress,
        description="  val",
    )


def fit(cfg: TrainConfig) -> TrainResult:
    """Train ``cfg.arch`` on ``cfg.data``; returns where the best checkpoint is and its mIoU."""
    return fit_run(_prepare(cfg))


def fit_run(run: Run) -> TrainResult:
    """The epoch loop: train, validate, write best.pt / last.pt / history.jsonl; resume.

    Under torchrun every rank trains; rank 0 alone validates and writes, holding the run folder's
    lock (:mod:`edgeseg.runlock`): a second run into the same ``--out`` is refused."""
    if not run.dist.main:
        return _epochs(run)
    run.cfg.out.mkdir(parents=True, exist_ok=True)
    with run_lock(run.cfg.out):
        return _epochs(run)


def _epochs(run: Run) -> TrainResult:
    cfg, main = run.cfg, run.dist.main
    best_path, last_path = cfg.out / "best.pt", cfg.out / "last.pt"
    start_epoch, best_miou, best_epoch, history = 0, -1.0, -1, []
    if cfg.resume:
        start_epoch, best_miou, best_epoch, history = _resume(last_path, run)
    started = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        record = _train_epoch(run, epoch)
        # Each checkpoint carries its own epoch's scores: none where that epoch was not validated
        # (a last.pt of epoch 30 stating the best epoch's mIoU misled whoever read its meta).
        run.meta.epoch, run.meta.metrics = epoch + 1, {}
        if main and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs):
            metrics = _validate(run)
            record.update(miou=metrics.miou, pixel_accuracy=metrics.pixel_accuracy)
            run.meta.metrics = metrics.as_dict()
            if metrics.miou > best_miou:
                best_miou, best_epoch = metrics.miou, epoch + 1
                save_checkpoint(best_path, run.model, run.meta)
        history.append(record)
        if main:
            train_state = {
                "epoch": epoch + 1,
                "optimizer": run.optimizer.state_dict(),
                "scheduler": run.scheduler.state_dict(),
                "objective": run.objective.state_dict(),
                "best_miou": best_miou,
                "best_epoch": best_epoch,
                "history": history,
                "rng": _rng_state(),
            }
            save_checkpoint(last_path, run.model, run.meta, train_state)
            _write_history(cfg.out / "history.jsonl", history)
    elapsed = time.perf_counter() - started
    distributed.teardown(run.dist)
    return TrainResult(best_miou, best_epoch, best_path, last_path, elapsed, history)


def _resume(last_path: Path, run: Run):
    cfg = run.cfg
    if not last_path.is_file():
        raise CheckpointError(
            f"--resume: no {last_path} to resume from; run without --resume first"
        )
    ckpt = load_checkpoint(last_path)
    if ckpt.meta.arch != cfg.arch:
        raise CheckpointError(
            f"--resume: {last_path} is a checkpoint of '{ckpt.meta.arch}', not '{cfg.arch}'; "
            "use another --out or the matching arch"
        )
    if ckpt.train_state is None:
        raise CheckpointError(f"--resume: {last_path} has no training state")
    run.model.load_state_dict(ckpt.state_dict, strict=True)
    state = ckpt.train_state
    run.objective.load_state_dict(state.get("objective", {}), strict=True)
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    _restore_rng(state["rng"])
    return state["epoch"], state["best_miou"], state["best_epoch"], list(state["history"])


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in history))
