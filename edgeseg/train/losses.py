"""Hard-label losses for training. Distillation losses live beside them in later modules."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from edgeseg.data import IGNORE_INDEX


def cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Pixel-wise CE that skips the ignore label (CamVid void / VOC borders are 255 on load).
    A batch with no labelled pixel (label-scarce distillation: only unlabelled images) gives 0,
    still in the graph, where torch's mean over nothing would be NaN."""
    if logits.shape[-2:] != target.shape[-2:]:
        logits = F.interpolate(logits, size=target.shape[-2:], mode="bilinear", align_corners=False)
    if not bool((target != IGNORE_INDEX).any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORE_INDEX)


def segmentation_loss(
    outputs: dict[str, torch.Tensor],
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    aux_weight: float = 0.5,
) -> torch.Tensor:
    """CE on the main logits plus ``aux_weight`` × CE on the aux head when there is one
    (torchvision's reference recipe uses 0.5)."""
    loss = cross_entropy(outputs["out"], target, weight)
    if "aux" in outputs and aux_weight > 0:
        loss = loss + aux_weight * cross_entropy(outputs["aux"], target, weight)
    return loss
