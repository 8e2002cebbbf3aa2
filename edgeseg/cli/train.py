"""``edgeseg train ARCH --data SPEC``: supervised training with best-by-mIoU checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeseg.cli.options import (
    BatchOpt,
    BNMomentumOpt,
    ColorJitterOpt,
    CutMixOpt,
    DataOpt,
    LabelsOpt,
    OutOpt,
    QuietOpt,
    SizeOpt,
    WorkersOpt,
    config_from,
    make_console,
    names_list,
)
from edgeseg.train import TrainConfig, distributed, fit
from edgeseg.utils import parse_size

console = make_console()


def train(
    arch: Annotated[str, typer.Argument(help="Model name (see `edgeseg models`)")],
    data: DataOpt = "sample",
    epochs: Annotated[int, typer.Option(help="Training epochs")] = 30,
    lr: Annotated[float, typer.Option(help="Peak learning rate")] = 1e-3,
    batch_size: BatchOpt = 8,
    size: SizeOpt = None,
    out: OutOpt = Path("runs/train"),
    optimizer: Annotated[str, typer.Option(help="adamw | sgd")] = "adamw",
    schedule: Annotated[str, typer.Option(help="cosine | poly (after linear warm-up)")] = "cosine",
    warmup_epochs: Annotated[float, typer.Option(help="Linear warm-up length in epochs")] = 1.0,
    weight_decay: Annotated[float, typer.Option(help="Weight decay (not on norms/biases)")] = 1e-4,
    freeze_backbone_until: Annotated[
        int, typer.Option(help="Keep backbone weights frozen for the first N epochs")
    ] = 0,
    class_weights: Annotated[
        str, typer.Option(help="none | enet | median_freq | inverse (from label frequency)")
    ] = "none",
    weights: Annotated[
        Optional[str],
        typer.Option(help="Initial weights: file, URL or tag (e.g. coco_voc)"),
    ] = None,
    backbone_weights: Annotated[
        Optional[str],
        typer.Option(help="Backbone weights: file, URL or tag (e.g. imagenet)"),
    ] = None,
    aux_weight: Annotated[float, typer.Option(help="Weight of the aux-head loss, if any")] = 0.5,
    bn_momentum: BNMomentumOpt = None,
    cutmix: CutMixOpt = 0.0,
    color_jitter: ColorJitterOpt = 0.0,
    workers: WorkersOpt = 2,
    labels: LabelsOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed (data order, init, augmentation)")] = 0,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/last.pt")] = False,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    limit_train_batches: Annotated[
        Optional[int], typer.Option(help="Stop each epoch after N batches (smoke runs)")
    ] = None,
    limit_val_batches: Annotated[
        Optional[int], typer.Option(help="Validate on N batches only (smoke runs)")
    ] = None,
    foreground_only: Annotated[
        bool, typer.Option(help="Black out all but objects (an FSI foreground teacher)")
    ] = False,
    background: Annotated[
        Optional[str], typer.Option(help="Background classes for --foreground-only, a,b")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Train ARCH on a dataset; writes OUT/best.pt, OUT/last.pt and OUT/history.jsonl."""
    cfg = config_from(
        TrainConfig,
        locals(),
        size=parse_size(size),
        background=names_list(background),
        progress=not quiet,
    )
    result = fit(cfg)
    if not distributed.from_env().main:  # under torchrun, rank 0 reports
        return
    console.print(
        f"[bold green]done[/] {arch}: best val mIoU {result.best_miou:.4f} "
        f"(epoch {result.best_epoch}) in {result.seconds:.0f}s → {result.best_path}"
    )
