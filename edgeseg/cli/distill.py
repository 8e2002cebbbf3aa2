"""``edgeseg distill ARCH --teacher SPEC --data SPEC``: a student trained against a teacher.

Data-parallel: ``torchrun --nproc-per-node N -m edgeseg distill …`` (``--batch-size`` per rank)."""

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
from edgeseg.distill.config import DEFAULT_LOSSES, PSEUDO_THRESHOLD, DistillConfig
from edgeseg.distill.run import distill as run_distill
from edgeseg.train import distributed
from edgeseg.utils import parse_size, parse_triple

console = make_console()
Opt = typer.Option


def distill(
    arch: Annotated[str, typer.Argument(help="Student model name (see `edgeseg models`)")],
    teacher: Annotated[
        list[str],
        Opt(
            help="Teacher: best.pt | ARCH:TAG | model.tflite/.onnx/.pte | "
            "foreground:SPEC | tta:SPEC | owlsam:PATH; repeat for an ensemble"
        ),
    ],
    data: DataOpt = "sample",
    loss: Annotated[
        Optional[list[str]],
        Opt(
            help="NAME[:k=v,…], repeatable: ce iou kd warmup "
            "feature affinity fsi cwd (default: ce kd)"
        ),
    ] = None,
    class_map: Annotated[
        Optional[list[str]],
        Opt(help="JSON {teacher class: student class|null}; once, or once per --teacher ('-')"),
    ] = None,
    teacher_classes: Annotated[
        Optional[list[str]],
        Opt(help="voc | cityscapes | classes.txt | a,b,c; once, or once per --teacher ('-')"),
    ] = None,
    teacher_weight: Annotated[
        Optional[list[str]],
        Opt(help="Ensemble: per --teacher, W or W,Class=W,… (mean of mapped probabilities)"),
    ] = None,
    teacher_mean: Annotated[Optional[str], Opt(help="Teacher input mean, 0..1 units")] = None,
    teacher_std: Annotated[Optional[str], Opt(help="Teacher input std, 0..1 units")] = None,
    teacher_size: Annotated[Optional[str], Opt(help="Teacher input HxW")] = None,
    teacher_layout: Annotated[Optional[str], Opt(help="NCHW | NHWC")] = None,
    teacher_option: Annotated[
        Optional[list[str]],
        Opt(
            help="KEY=VALUE for the teacher kind (an exported file: tensor, features, "
            "feature_tap; tta: tta_scales, tta_flip; owlsam: iou, nms, prompts…)"
        ),
    ] = None,
    background: Annotated[Optional[str], Opt(help="Background classes (fsi, foreground)")] = None,
    teacher_cache: Annotated[
        Optional[str], Opt(help="Cache teacher logits (and feature taps) in DIR")
    ] = None,
    unlabeled: Annotated[Optional[str], Opt(help="Pseudo-label mode: folder of images")] = None,
    pseudo_threshold: Annotated[float, Opt(help="Min teacher confidence for a label")] = (
        PSEUDO_THRESHOLD
    ),
    pseudo_labels: Annotated[
        bool, Opt(help="With --labels: the teacher's confident argmax labels the rest")
    ] = False,
    epochs: Annotated[int, Opt(help="Training epochs")] = 30,
    lr: Annotated[float, Opt(help="Peak learning rate")] = 1e-3,
    batch_size: BatchOpt = 8,
    size: SizeOpt = None,
    out: OutOpt = Path("runs/distill"),
    optimizer: Annotated[str, Opt(help="adamw | sgd")] = "adamw",
    schedule: Annotated[str, Opt(help="cosine | poly")] = "cosine",
    warmup_epochs: Annotated[float, Opt(help="Linear LR warm-up in epochs")] = 1.0,
    weight_decay: Annotated[float, Opt(help="Weight decay")] = 1e-4,
    class_weights: Annotated[str, Opt(help="none | enet | median_freq | inverse")] = "none",
    weights: Annotated[Optional[str], Opt(help="Student initial weights")] = None,
    backbone_weights: Annotated[Optional[str], Opt(help="Student backbone weights")] = None,
    aux_weight: Annotated[float, Opt(help="Weight of the student's aux-head CE")] = 0.5,
    bn_momentum: BNMomentumOpt = None,
    cutmix: CutMixOpt = 0.0,
    color_jitter: ColorJitterOpt = 0.0,
    workers: WorkersOpt = 2,
    labels: LabelsOpt = None,
    seed: Annotated[int, Opt(help="Random seed")] = 0,
    resume: Annotated[bool, Opt(help="Continue from OUT/last.pt")] = False,
    device: Annotated[str, Opt(help="auto | cpu | cuda | cuda:N")] = "auto",
    limit_train_batches: Annotated[Optional[int], Opt(help="Batches per epoch (smoke)")] = None,
    limit_val_batches: Annotated[Optional[int], Opt(help="Val batches (smoke)")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Distil TEACHER into ARCH; writes OUT/best.pt, OUT/last.pt and OUT/history.jsonl."""
    cfg = config_from(
        DistillConfig,
        locals(),
        size=parse_size(size),
        progress=not quiet,
        teacher=tuple(teacher),
        losses=tuple(loss or DEFAULT_LOSSES),
        class_map=tuple(class_map) if class_map else None,
        teacher_classes=tuple(teacher_classes) if teacher_classes else None,
        teacher_weights=tuple(teacher_weight or ()),
        teacher_mean=parse_triple(teacher_mean, "--teacher-mean"),
        teacher_std=parse_triple(teacher_std, "--teacher-std"),
        teacher_size=parse_size(teacher_size),
        teacher_options=tuple(teacher_option or ()),
        background=names_list(background),
    )
    result = run_distill(cfg)
    if not distributed.from_env().main:  # under torchrun, rank 0 reports
        return
    label = "teacher-agreement mIoU" if unlabeled else "val mIoU"
    console.print(
        f"[bold green]done[/] {arch} ← {' + '.join(teacher)}: best {label} {result.best_miou:.4f} "
        f"(epoch {result.best_epoch}) in {result.seconds:.0f}s → {result.best_path}"
    )
