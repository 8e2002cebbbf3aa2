"""Segmentation metrics from one confusion matrix (torchvision references' ConfusionMatrix).

Convention, stated once: a class that appears in neither the ground truth nor the prediction of
the whole evaluated set has IoU ``NaN`` and is left out of the mean (the same rule as torchmetrics'
``MulticlassJaccardIndex(average="macro")``). A class present in either gets a real IoU, possibly 0.
Pixels whose label is outside ``[0, num_classes)`` — the ignore label 255 — are dropped before
counting, so no special case is needed for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class SegMetrics:
    """What one evaluation produced; ``per_class_iou`` holds NaN for absent classes."""

    miou: float
    pixel_accuracy: float
    mean_accuracy: float
    per_class_iou: list[float]
    pixels: int
    classes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        def clean(v: float) -> float | None:
            return None if v != v else round(v, 6)  # NaN → null in JSON

        return {
            "miou": clean(self.miou),
            "pixel_accuracy": clean(self.pixel_accuracy),
            "mean_accuracy": clean(self.mean_accuracy),
            "per_class_iou": {
                (self.classes[i] if i < len(self.classes) else str(i)): clean(v)
                for i, v in enumerate(self.per_class_iou)
            },
            "pixels": self.pixels,
        }


class ConfusionMatrix:
    """A ``num_classes`` square count matrix: rows = ground truth, cols = prediction."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.mat = torch.zeros((num_classes, num_classes), dtype=torch.int64)

    def update(self, target: torch.Tensor, pred: torch.Tensor) -> None:
        """Add a batch; ``target`` and ``pred`` are integer label maps of the same shape."""
        if target.shape != pred.shape:
            raise ValueError(f"target {tuple(target.shape)} and pred {tuple(pred.shape)} differ")
        n = self.num_classes
        target = target.flatten().to(torch.int64)
        pred = pred.flatten().to(torch.int64)
        keep = (target >= 0) & (target < n)
        idx = n * target[keep] + pred[keep].clamp(0, n - 1)
        self.mat += torch.bincount(idx, minlength=n * n).reshape(n, n).cpu()

    def reset(self) -> None:
        self.mat.zero_()

    def merge(self, other: ConfusionMatrix) -> None:
        """Add another matrix (e.g. from another process)."""
        self.mat += other.mat

    def compute(self, classes: list[str] | None = None) -> SegMetrics:
        mat = self.mat.double()
        tp = mat.diag()
        gt = mat.sum(1)
        pred = mat.sum(0)
        union = gt + pred - tp
        iou = torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))
        acc = torch.where(gt > 0, tp / gt.clamp(min=1), torch.full_like(tp, float("nan")))
        total = mat.sum()
        return SegMetrics(
            miou=_nanmean(iou),
            pixel_accuracy=float(tp.sum() / total) if total > 0 else float("nan"),
            mean_accuracy=_nanmean(acc),
            per_class_iou=[float(v) for v in iou],
            pixels=int(total),
            classes=list(classes or []),
        )


def _nanmean(values: torch.Tensor) -> float:
    valid = values[~values.isnan()]
    return float(valid.mean()) if valid.numel() else float("nan")
