"""Affinity KD (GroupViT/DINO thesis): the teacher's patch affinities as the student's target.

Both taps are average-pooled to a ``grid``×``grid`` map; each position's feature is L2-normalised
and the cosine affinity of every pair is taken. The teacher's row-softmaxed affinities (temperature
``tau``) are the target distribution of each row; the loss is the cross-entropy of the student's
row-softmaxed affinities against it. Channel counts may differ (affinities are P×P either way), so
no adapter is needed. Positions whose pixels distillation may not use drop out of rows and columns.
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

_OFF = -1.0e4  # logit of a masked-out column


@dataclass
class AffinityParams(LossParams):
    tap: str = "high"
    grid: int = 16
    tau: float = 0.1


def affinity_logits(features: torch.Tensor, grid: int, tau: float) -> torch.Tensor:
    """[N, C, h, w] → cosine affinities / tau, [N, P, P] with P = grid²."""
    pooled = F.adaptive_avg_pool2d(features, grid).flatten(2).transpose(1, 2)
    unit = F.normalize(pooled, dim=-1, eps=1e-6)
    return unit @ unit.transpose(1, 2) / tau


@register_loss
class AffinityKD(DistillLoss):
    name = "affinity"
    Params = AffinityParams
    needs_taps = True
    needs_teacher_features = True

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        p = self.params
        keep = F.adaptive_avg_pool2d(inputs.mask[:, None].float(), p.grid).flatten(1) > 0.5
        columns = ~keep[:, None, :]
        target = affinity_logits(inputs.teacher.features[p.tap].detach().float(), p.grid, p.tau)
        target = target.masked_fill(columns, _OFF).softmax(-1)
        student = affinity_logits(inputs.student[p.tap], p.grid, p.tau)
        log_s = student.masked_fill(columns, _OFF).log_softmax(-1)
        rows = -(target * log_s).sum(-1)
        return masked_mean(rows, keep)
