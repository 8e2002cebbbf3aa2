"""Response KD (Hinton; the Queen's lab recipe): pixel-wise KL(softmax(t/T) ‖ softmax(s/T))·T².

Summed over classes, averaged over the pixels distillation may use (ignore label and pixels the
teacher's class map cannot place are left out). Defaults: T = 4, weight α = 0.9.

``class_weighted=true`` weights each pixel's KL by its ground-truth class's ``--class-weights``
weight (a weighted mean; a pixel without a label by the teacher's class), so KD keeps the
rare-class emphasis the weighted CE beside it has: plain pixel KL is dominated by road, sky and
building and pulled rare classes (Fence, SignSymbol) to near zero on CamVid
(benchmarks/results/distill_camvid.md). ``correct_only=true`` distills only
the pixels where the teacher's argmax is the label.
"""

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
    kd_mask,
    masked_mean,
    register_loss,
)
from edgeseg.errors import DistillError


@dataclass
class KDParams(LossParams):
    weight: float = 0.9
    temperature: float = 4.0
    class_weighted: bool = False
    correct_only: bool = False  # only pixels where the teacher's argmax is the label


def pixel_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher ‖ student) per pixel [N, H, W] at ``temperature``, scaled by T²."""
    log_s = F.log_softmax(student / temperature, dim=1)
    log_t = F.log_softmax(teacher.detach() / temperature, dim=1)
    return (log_t.exp() * (log_t - log_s)).sum(1) * temperature**2


@register_loss
class ResponseKD(DistillLoss):
    name = "kd"
    Params = KDParams

    def __init__(self, params: KDParams, ctx: LossContext) -> None:
        super().__init__(params, ctx)
        if params.class_weighted and ctx.class_weights is None:
            raise DistillError(
                "--loss kd:class_weighted=true needs --class-weights (enet, median-freq or inverse)"
            )
        self.class_weights = ctx.class_weights if params.class_weighted else None

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        kl = pixel_kl(inputs.student["out"], inputs.teacher.logits, self.params.temperature)
        mask = kd_mask(inputs, self.params.correct_only)
        if self.class_weights is None:
            return masked_mean(kl, mask)
        # a pixel without a label (an unlabelled image, or not confident enough for a pseudo-label)
        # is weighted as the class the teacher gives it, never as a clamped 255
        target = torch.where(
            inputs.target == IGNORE_INDEX, inputs.teacher.logits.argmax(1), inputs.target
        )
        target = target.clamp(0, len(self.class_weights) - 1)
        weights = self.class_weights[target] * mask
        return (kl * weights).sum() / weights.sum().clamp(min=1e-12)
