"""What the teacher teaches, class by class: its cached soft targets against the labels.

KD pulls the student toward the teacher's distribution on every pixel it may use. Where that
distribution disagrees with the labels, the KD term argues against the CE term beside it: a
Cityscapes teacher folded onto CamVid, read at 120×160, gives Pole pixels 0.21 of its probability
on average (Pole IoU 12.5 against 91 for Road), and KD students lose Pole, SignSymbol and Fence
(benchmarks/results/distill_gains_heldout_0006R0.md). This module measures it once the teacher
cache is filled — labels read at the training size, nearest, as training reads them; only the
labels the run may use (``--labels``) — so a user sees it before spending the hours, and the
checkpoint's recipe keeps it (``teacher_vs_labels``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image

from edgeseg.distill.cache import TeacherCache
from edgeseg.metrics import ConfusionMatrix
from edgeseg.progress import progress_bar


@dataclass(frozen=True)
class LabelAgreement:
    """Per class (the student's): IoU of the teacher's argmax against the label, the mean
    probability (T = 1) the teacher gives the labelled class, its labelled pixels, and the class
    its pixels most often go to instead. ``None`` where a class has no labelled pixel and no
    prediction. A pixel the teacher's class map cannot place counts as a miss ("unplaceable")."""

    classes: tuple[str, ...]
    size: tuple[int, int]
    images: int
    iou: tuple[float | None, ...]
    probability: tuple[float | None, ...]
    pixels: tuple[int, ...]
    # where a class's pixels go when the teacher is wrong: (class or "unplaceable", share)
    confused_with: tuple[tuple[str, float] | None, ...]

    @property
    def miou(self) -> float:
        seen = [x for x in self.iou if x is not None]
        return sum(seen) / len(seen) if seen else 0.0

    def weakest(self, k: int = 3) -> list[int]:
        """The ``k`` labelled classes with the lowest IoU, lowest first."""
        ranked = sorted((x, i) for i, x in enumerate(self.iou) if x is not None and self.pixels[i])
        return [i for _, i in ranked[:k]]

    def describe(self, c: int) -> str:
        """``Pole 12.5 (p 0.21, 50% as Building)``: IoU, probability, where its pixels go."""
        text = f"{self.classes[c]} {100 * (self.iou[c] or 0):.1f} (p {self.probability[c] or 0:.2f}"
        other = self.confused_with[c]
        return text + (f", {100 * other[1]:.0f}% as {other[0]})" if other else ")")

    def summary(self) -> str:
        worst = ", ".join(self.describe(i) for i in self.weakest())
        (h, w), plural = self.size, "s" * (self.images != 1)
        return (
            f"teacher vs labels at {h}x{w} ({self.images} labelled image{plural}): "
            f"mIoU {100 * self.miou:.1f}; weakest {worst}"
        )

    @classmethod
    def from_dict(cls, record: dict) -> LabelAgreement:
        """A record kept by :meth:`as_dict` (one written before ``confused_with`` existed has
        none for any class)."""
        names = ("classes", "size", "images", "iou", "probability", "pixels")
        confused = record.get("confused_with") or [None] * len(record["iou"])
        return cls(**{k: record[k] for k in names}, confused_with=tuple(confused))

    def as_dict(self) -> dict:
        record = asdict(self)
        record["miou"] = self.miou
        return record


def label_agreement(
    cache: TeacherCache, labeled, classes: tuple[str, ...], progress: bool = True
) -> LabelAgreement | None:
    """Compare ``cache`` with the masks of ``labeled`` (the split, or a view of it whose
    ``source_index`` names the cache's items). None when no image has a labelled pixel."""
    n = len(classes)
    h, w = cache.size
    confmat = ConfusionMatrix(n + 1)  # label × teacher argmax; class n: unplaceable
    prob = np.zeros(n, np.float64)
    images = 0
    with progress_bar(progress) as bar:
        task = bar.add_task("teacher vs labels", total=len(labeled), info="")
        for i in range(len(labeled)):
            bar.update(task, advance=1)
            mask = Image.fromarray(labeled.load_mask(i)).resize((w, h), Image.NEAREST)
            target = torch.from_numpy(np.asarray(mask, dtype=np.int64))
            keep = target < n
            if not keep.any():
                continue
            index = labeled.source_index(i) if hasattr(labeled, "source_index") else i
            logits, valid = cache.item(index)
            images += 1
            t = target[keep]
            confmat.update(t, torch.where(valid, logits.argmax(0), n)[keep])
            q = logits.softmax(0).gather(0, target.clamp(max=n - 1)[None])[0][keep]
            prob += np.bincount(t.numpy(), weights=q.double().numpy(), minlength=n)
    return _agreement(confmat, prob, classes, (h, w), images) if images else None


def _agreement(confmat: ConfusionMatrix, prob: np.ndarray, classes, size, images: int):
    """IoU from the project's confusion matrix (NaN: absent → None); where each class's missed
    pixels go from its row, the hits taken out."""
    n = len(classes)
    iou = confmat.compute().per_class_iou[:n]
    counts = confmat.mat[:n].numpy()  # rows: the labels (no label is "unplaceable")
    truth = counts.sum(1)
    wrong = counts.copy()
    np.fill_diagonal(wrong, 0)
    names = (*classes, "unplaceable")
    confused = [
        (names[int(wrong[c].argmax())], float(wrong[c].max() / truth[c]))
        if wrong[c].max()
        else None
        for c in range(n)
    ]
    return LabelAgreement(
        classes=tuple(classes),
        size=size,
        images=images,
        iou=tuple(None if v != v else v for v in iou),
        probability=tuple(float(prob[c] / truth[c]) if truth[c] else None for c in range(n)),
        pixels=tuple(int(x) for x in truth),
        confused_with=tuple(confused),
    )
