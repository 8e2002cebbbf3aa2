"""FSI distillation: reciprocal pixel selection plus an auxiliary foreground head.

KD (KL at temperature T) only on pixels where (a) teacher and student argmax agree on a
foreground class, or (b) the student says foreground and the teacher background: the pixels where
the teacher can correct or confirm the student's objects, not the easy background. The auxiliary
head (a 1×1 conv on a student tap) predicts foreground vs background, trained with weighted BCE
(fg : bg = 2 : 1) against the labels; it belongs to this loss, so it is dropped at export.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeseg.data import IGNORE_INDEX
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


@dataclass
class FSIParams(LossParams):
    temperature: float = 4.0
    head_weight: float = 1.0
    fg_weight: float = 2.0
    bg_weight: float = 1.0
    tap: str = "high"


def is_foreground(labels: torch.Tensor, background: frozenset[int]) -> torch.Tensor:
    keep = torch.ones_like(labels, dtype=torch.bool)
    for cls in background:
        keep &= labels != cls
    return keep


def reciprocal_selection(
    student: torch.Tensor, teacher: torch.Tensor, background: frozenset[int]
) -> torch.Tensor:
    """[N, H, W] bool: agree on foreground, or student foreground where teacher says background."""
    s, t = student.argmax(1), teacher.argmax(1)
    s_fg, t_fg = is_foreground(s, background), is_foreground(t, background)
    return ((s == t) & t_fg) | (s_fg & ~t_fg)


@register_loss
class FSI(DistillLoss):
    name = "fsi"
    Params = FSIParams
    needs_taps = True

    def __init__(self, params: FSIParams, ctx: LossContext) -> None:
        super().__init__(params, ctx)
        if not ctx.background:
            raise DistillError("--loss fsi needs background classes: pass --background NAME")
        if params.tap not in ctx.student_channels:
            raise DistillError(f"--loss fsi: the student has no tap '{params.tap}'")
        self.background = ctx.background
        self.head = nn.Conv2d(ctx.student_channels[params.tap], 1, 1)

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        p = self.params
        logits, teacher = inputs.student["out"], inputs.teacher.logits
        selected = reciprocal_selection(logits.detach(), teacher, self.background) & inputs.mask
        kd = masked_mean(pixel_kl(logits, teacher, p.temperature), selected)
        return kd + p.head_weight * self.head_loss(inputs.student[p.tap], inputs.target)

    def head_loss(self, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Weighted BCE of the foreground head against the labels (255 ignored)."""
        fg_logit = F.interpolate(
            self.head(features), size=target.shape[-2:], mode="bilinear", align_corners=False
        )[:, 0]
        fg = is_foreground(target, self.background).float()
        weight = torch.where(fg > 0, self.params.fg_weight, self.params.bg_weight)
        bce = F.binary_cross_entropy_with_logits(fg_logit, fg, reduction="none")
        return masked_mean(bce * weight, target != IGNORE_INDEX)
