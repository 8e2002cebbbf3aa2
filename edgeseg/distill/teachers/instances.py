"""Detections and instance masks → semantic logits: the model-free half of the OWLv2 + SAM teacher.

Kept apart from the models so that each rule can be tested with known numbers:

- :func:`select_detections`: OWLv2's confidence threshold with the OWLSAM fallback — 0.1, then
  0.05, then 0.01 when an image gets no box — so a hard image still gets a few prompts for SAM.
- :func:`nms`: greedy per-class non-maximum suppression. OWLv2 predicts one box per image patch,
  so one car gets several near-identical boxes; without it their masks would be summed twice.
- :func:`semantic_logits`: the OWLSAM aggregation. Class ``c``'s logit map is the sum over that
  class's instances of ``binary mask × mask logits`` (binary = SAM logit > 0); pixels no instance
  covers are background: the background class gets ``background_logit`` there and 0 elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class Detections:
    """One image's boxes (x0, y0, x1, y1 in pixels), their scores and teacher-class ids."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor
    threshold: float | None = None  # the confidence threshold that produced them

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def subset(self, keep: torch.Tensor) -> Detections:
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep], self.threshold)


def select_detections(found: Detections, thresholds: Sequence[float]) -> Detections:
    """The boxes above the first threshold that leaves at least one (scores > threshold, as
    transformers' post-processing compares); none if even the last leaves none."""
    for threshold in thresholds:
        keep = found.scores > threshold
        if bool(keep.any()):
            picked = found.subset(keep)
            picked.threshold = float(threshold)
            return picked
    empty = found.subset(torch.zeros_like(found.scores, dtype=torch.bool))
    empty.threshold = float(thresholds[-1]) if thresholds else None
    return empty


def clip_boxes(found: Detections, height: int, width: int, min_side: float = 1.0) -> Detections:
    """Clip boxes to the image and drop those thinner than ``min_side`` pixels (OWLv2 boxes of
    the padded square can reach past the image, and SAM needs a box with an inside)."""
    limits = torch.tensor([width, height, width, height], dtype=found.boxes.dtype)
    boxes = torch.minimum(found.boxes.clamp(min=0), limits.to(found.boxes.device))
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_side) & ((boxes[:, 3] - boxes[:, 1]) >= min_side)
    clipped = Detections(boxes, found.scores, found.labels, found.threshold)
    return clipped.subset(keep)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of [N, 4] and [M, 4] boxes → [N, M]."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-9)


def nms(found: Detections, iou: float, max_boxes: int) -> Detections:
    """Greedy NMS within each class (highest score first), then the ``max_boxes`` best.

    ``iou >= 1`` keeps every box. Box counts are small (tens), so a plain loop is enough."""
    order = torch.argsort(found.scores, descending=True)
    if iou < 1.0 and len(order) > 1:
        overlap = box_iou(found.boxes, found.boxes)
        same = found.labels[:, None] == found.labels[None, :]
        suppressed = torch.zeros(len(found), dtype=torch.bool)
        kept = []
        for index in order.tolist():
            if suppressed[index]:
                continue
            kept.append(index)
            suppressed |= same[index] & (overlap[index] > iou)
        order = torch.tensor(kept, dtype=torch.long)
    return found.subset(order[:max_boxes])


def semantic_logits(
    mask_logits: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    background: int,
    background_logit: float,
) -> torch.Tensor:
    """Instance mask logits [K, H, W] of classes ``labels`` [K] → class logits [C, H, W].

    ``logits[c] = Σ_{k: labels[k] = c} (mask_logits[k] > 0) · mask_logits[k]``; where no instance
    is on (every ``mask_logits[k] <= 0``, or K = 0) ``logits[background] = background_logit``.
    """
    height, width = mask_logits.shape[-2:]
    out = mask_logits.new_zeros(num_classes, height, width)
    on = mask_logits > 0
    if mask_logits.shape[0]:
        out.index_add_(0, labels.to(out.device).long(), mask_logits * on)
    uncovered = ~on.any(0) if mask_logits.shape[0] else torch.ones_like(out[0], dtype=torch.bool)
    out[background] = uncovered.to(out.dtype) * background_logit
    return out
