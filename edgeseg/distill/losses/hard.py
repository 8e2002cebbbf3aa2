"""Hard-label losses: cross-entropy (ignore 255, optional class weights, aux head) and soft-IoU."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgeseg.data import IGNORE_INDEX
from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossContext,
    LossParams,
    register_loss,
)
from edgeseg.train.losses import segmentation_loss


@dataclass
class CEParams(LossParams):
    weight: float = 0.1  # 1 - α of the Queen's lab recipe (α = 0.9 on response KD)


@register_loss
class CrossEntropy(DistillLoss):
    """Pixel-wise CE on the labels, as ``edgeseg train`` minimises (plus the aux head's)."""

    name = "ce"
    Params = CEParams

    def __init__(self, params: CEParams, ctx: LossContext) -> None:
        super().__init__(params, ctx)
        self.class_weights = ctx.class_weights
        self.aux_weight = ctx.aux_weight

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        outputs = {k: v for k, v in inputs.student.items() if k in ("out", "aux")}
        return segmentation_loss(outputs, inputs.target, self.class_weights, self.aux_weight)


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """1 − mean soft Jaccard over the classes present in prediction or target; 255 ignored."""
    valid = (target != IGNORE_INDEX).unsqueeze(1).to(logits.dtype)
    probs = logits.softmax(1) * valid
    onehot = F.one_hot(target.clamp(max=logits.shape[1] - 1), logits.shape[1])
    onehot = onehot.permute(0, 3, 1, 2).to(logits.dtype) * valid
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    union = (probs + onehot - probs * onehot).sum(dims)
    present = union > eps
    if not present.any():
        return logits.sum() * 0.0
    return 1.0 - (inter[present] / union[present]).mean()


@register_loss
class SoftIoU(DistillLoss):
    """Soft-IoU (Jaccard) loss on the labels: optimises the metric itself (OWLSAM's hard loss)."""

    name = "iou"

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        return soft_iou_loss(inputs.student["out"], inputs.target)
