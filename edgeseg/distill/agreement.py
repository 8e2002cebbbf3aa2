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
from edgeseg.progress import progress_bar


@dataclass(frozen=True)
class LabelAgreement:
    """Per class (the student's): IoU of the teacher's argmax against the label, the mean
    probability (T = 1) the teacher gives the labelled class, and its labelled pixels. ``None``
    where a class has no labelled pixel and no prediction. A pixel the teacher's class map cannot
    place counts as a miss."""

    classes: tuple[str, ...]
    size: tuple[int, int]
    images: int
    iou: tuple[float | None, ...]
    probability: tuple[float | None, ...]
    pixels: tuple[int, ...]

    @property
    def miou(self) -> float:
        seen = [x for x in self.iou if x is not None]
        return sum(seen) / len(seen) if seen else 0.0

    def weakest(self, k: int = 3) -> list[int]:
        """The ``k`` labelled classes with the lowest IoU, lowest first."""
        ranked = sorted((x, i) for i, x in enumerate(self.iou) if x is not None and self.pixels[i])
        return [i for _, i in ranked[:k]]

    def summary(self) -> str:
        worst = ", ".join(
            f"{self.classes[i]} {100 * (self.iou[i] or 0):.1f} (p {self.probability[i] or 0:.2f})"
            for i in self.weakest()
        )
        h, w = self.size
        return (
            f"teacher vs labels at {h}x{w} ({self.images} labelled images): "
            f"mIoU {100 * self.miou:.1f}; weakest {worst}"
        )

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
    hits, truth, chosen = (np.zeros(n, np.int64) for _ in range(3))
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
            p = torch.where(valid, logits.argmax(0), -1)[keep]
            q = logits.softmax(0).gather(0, target.clamp(max=n - 1)[None])[0][keep]
            hits += np.bincount(t[p == t].numpy(), minlength=n)
            truth += np.bincount(t.numpy(), minlength=n)
            chosen += np.bincount(p[p >= 0].numpy(), minlength=n)
            prob += np.bincount(t.numpy(), weights=q.double().numpy(), minlength=n)
    if not images:
        return None
    union = truth + chosen - hits
    return LabelAgreement(
        classes=tuple(classes),
        size=(h, w),
        images=images,
        iou=tuple(float(hits[c] / union[c]) if union[c] else None for c in range(n)),
        probability=tuple(float(prob[c] / truth[c]) if truth[c] else None for c in range(n)),
        pixels=tuple(int(x) for x in truth),
    )
