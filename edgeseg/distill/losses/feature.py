"""Feature KD (Queen's lab): 1×1 adapters map student taps to the teacher's channels; the
adapted map is resized bilinearly to the teacher tap's size and pulled towards it with a cosine
embedding loss (1 − cos per position), β = 10. The adapters are this loss's parameters, not the
student's: they train with it and never appear in its state_dict or an export.

``distance=kl`` reads the teacher tap as class scores and the adapter as an auxiliary head: the
per-position KL of their softmaxes at ``temperature`` (response KD's term) instead of the cosine.
That is for a tap like the Cityscapes model's unfolded 19-class logits
(``--teacher-option features=logits/semantic/BiasAdd``): the fold onto CamVid's 11 classes sums
car, truck and bus, or vegetation and terrain, into one probability, and what tells them apart is
knowledge the student's own head cannot be asked for.
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
from edgeseg.distill.losses.response import pixel_kl
from edgeseg.errors import DistillError
from edgeseg.utils import unknown_name_message

DISTANCES = ("cosine", "kl")


@dataclass
class FeatureParams(LossParams):
    weight: float = 10.0  # β
    taps: str = "high"  # student/teacher tap names joined by '+', e.g. "mid+high"
    distance: str = "cosine"  # or "kl": the tap as class scores, KL of softmaxes at temperature
    temperature: float = 2.0  # for distance=kl

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.distance not in DISTANCES:
            raise DistillError(
                unknown_name_message("distance", self.distance, DISTANCES)
                + f" (in --loss feature:distance={self.distance})"
            )


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
            if self.params.distance == "kl":
                distance = pixel_kl(adapted, target, self.params.temperature)
            else:
                distance = 1.0 - F.cosine_similarity(adapted, target, dim=1, eps=1e-6)
            total = total + masked_mean(distance, mask_at(inputs.mask, target.shape[-2:]))
        return total / len(self.taps)
