"""Feature KD (Queen's lab): 1×1 adapters map student taps to the teacher's channels; the
adapted map is resized bilinearly to the teacher tap's size and pulled towards it with a cosine
embedding loss (1 − cos per position), β = 10. The adapters are this loss's parameters, not the
student's: they train with it and never appear in its state_dict or an export.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossContext,
    LossParams,
    masked_mean,
    register_loss,
)
from edgeseg.errors import DistillError


@dataclass
class FeatureParams(LossParams):
    weight: float = 10.0  # β
    taps: str = "high"  # student/teacher tap names joined by '+', e.g. "mid+high"


def mask_at(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The pixel mask at a feature map's size (nearest): a position counts if its pixel does."""
    return F.interpolate(mask[:, None].float(), size=size, mode="nearest")[:, 0] > 0.5


@register_loss
class FeatureKD(DistillLoss):
    name = "feature"
    Params = FeatureParams
    needs_taps = True
    needs_teacher_features = True

    def __init__(self, params: FeatureParams, ctx: LossContext) -> None:
        super().__init__(params, ctx)
        self.taps = [t for t in params.taps.split("+") if t]
        self.adapters = nn.ModuleDict()
        for tap in self.taps:
            if tap not in ctx.student_channels or tap not in ctx.teacher_channels:
                raise DistillError(
                    f"--loss feature: tap '{tap}' is not in both student "
                    f"({', '.join(ctx.student_channels)}) and teacher "
                    f"({', '.join(ctx.teacher_channels)})"
                )
            self.adapters[tap] = nn.Conv2d(ctx.student_channels[tap], ctx.teacher_channels[tap], 1)

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        total = inputs.student["out"].new_zeros(())
        for tap in self.taps:
            target = inputs.teacher.features[tap].detach()
            adapted = self.adapters[tap](inputs.student[tap])
            if adapted.shape[-2:] != target.shape[-2:]:
                adapted = F.interpolate(
                    adapted, size=target.shape[-2:], mode="bilinear", align_corners=False
                )
            distance = 1.0 - F.cosine_similarity(adapted, target, dim=1, eps=1e-6)
            total = total + masked_mean(distance, mask_at(inputs.mask, target.shape[-2:]))
        return total / len(self.taps)
