"""Response KD (Hinton; the Queen's lab recipe): pixel-wise KL(softmax(t/T) ‖ softmax(s/T))·T².

Summed over classes, averaged over the pixels distillation may use (ignore label and pixels the
teacher's class map cannot place are left out). Defaults: T = 4, weight α = 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossParams,
    masked_mean,
    register_loss,
)


@dataclass
class KDParams(LossParams):
    weight: float = 0.9
    temperature: float = 4.0


def pixel_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher ‖ student) per pixel [N, H, W] at ``temperature``, scaled by T²."""
    log_s = F.log_softmax(student / temperature, dim=1)
    log_t = F.log_softmax(teacher.detach() / temperature, dim=1)
    return (log_t.exp() * (log_t - log_s)).sum(1) * temperature**2


@register_loss
class ResponseKD(DistillLoss):
    name = "kd"
    Params = KDParams

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        kl = pixel_kl(inputs.student["out"], inputs.teacher.logits, self.params.temperature)
        return masked_mean(kl, inputs.mask)
