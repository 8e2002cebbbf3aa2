"""Channel-wise distillation (Shu et al., ICCV 2021): each class channel's logits become a
spatial distribution (softmax over positions at temperature τ); the student matches the teacher's
per channel with KL, averaged over channels and images, times τ². Masked pixels are taken out of
both distributions (``correct_only=true``: also the pixels the teacher gets wrong). Defaults
from the paper's logit setting: τ = 4, weight 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossParams,
    kd_mask,
    register_loss,
)

_OFF = -1.0e4


@dataclass
class CWDParams(LossParams):
    weight: float = 3.0
    tau: float = 4.0
    correct_only: bool = False  # only pixels where the teacher's argmax is the label


def channel_wise_kl(
    student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor, tau: float
) -> torch.Tensor:
    n, c = student.shape[:2]
    off = ~mask[:, None].expand_as(student)
    s = (student / tau).masked_fill(off, _OFF).reshape(n, c, -1)
    t = (teacher.detach() / tau).masked_fill(off, _OFF).reshape(n, c, -1)
    log_s, log_t = F.log_softmax(s, -1), F.log_softmax(t, -1)
    kl = (log_t.exp() * (log_t - log_s)).sum(-1)  # [N, C]
    return kl.mean() * tau**2


@register_loss
class ChannelWiseKD(DistillLoss):
    name = "cwd"
    Params = CWDParams

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        mask = kd_mask(inputs, self.params.correct_only)
        return channel_wise_kl(inputs.student["out"], inputs.teacher.logits, mask, self.params.tau)
