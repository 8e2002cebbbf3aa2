"""KL warm-up (OWLSAM, Algorithm 3.1): soft-IoU on the labels plus an adaptively weighted KL.

    loss = iou_weight · softIoU(s, y) + λ · KL(t ‖ s; T)·T²

λ starts at ``start`` (default: ``min``) and moves by ``step`` (0.05) after every training step,
kept within [``min``, ``max``]: up when the KL term went down since the previous step (the student
is following the teacher, so lean on it more), down when it went up (the teacher's signal is not
helping right now; let the labels lead). This is our reading of the thesis's Algorithm 3.1 (the
thesis gives the ±0.05 rule, the bounds, IoU weight 0.5 and T = 5). λ and the previous KL are
buffers, so they are saved in ``last.pt`` and ``--resume`` continues the schedule exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossContext,
    LossParams,
    masked_mean,
    register_loss,
)
from edgeseg.distill.losses.hard import soft_iou_loss
from edgeseg.distill.losses.response import pixel_kl
from edgeseg.errors import DistillError


@dataclass
class WarmupParams(LossParams):
    temperature: float = 5.0
    iou_weight: float = 0.5
    step: float = 0.05
    min: float = 0.0
    max: float = 1.0
    start: float = -1.0  # < 0: start at ``min``


@register_loss
class KLWarmup(DistillLoss):
    name = "warmup"
    Params = WarmupParams

    def __init__(self, params: WarmupParams, ctx: LossContext) -> None:
        super().__init__(params, ctx)
        if not 0.0 <= params.min <= params.max:
            raise DistillError(
                f"--loss warmup: need 0 <= min <= max (got {params.min}, {params.max})"
            )
        start = params.min if params.start < 0 else min(max(params.start, params.min), params.max)
        self.register_buffer("kl_weight", torch.tensor(float(start)))
        self.register_buffer("previous_kl", torch.tensor(float("inf")))

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        p = self.params
        kl = masked_mean(
            pixel_kl(inputs.student["out"], inputs.teacher.logits, p.temperature), inputs.mask
        )
        iou = soft_iou_loss(inputs.student["out"], inputs.target)
        loss = p.iou_weight * iou + float(self.kl_weight) * kl
        if self.training:
            self.adapt(kl.detach())
        return loss

    @torch.no_grad()
    def adapt(self, kl: torch.Tensor) -> None:
        """±``step`` on λ by whether the KL term fell since the previous step, within bounds."""
        p = self.params
        delta = p.step if bool(kl < self.previous_kl) else -p.step
        self.kl_weight.copy_((self.kl_weight + delta).clamp(p.min, p.max))
        self.previous_kl.copy_(kl)
