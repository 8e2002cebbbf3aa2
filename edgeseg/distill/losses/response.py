"""Response KD (Hinton; the Queen's lab recipe): pixel-wise KL(softmax(t/T) ‖ softmax(s/T))·T².

Summed over classes, averaged over the pixels distillation may use (ignore label and pixels the
teacher's class map cannot place are left out). Defaults: T = 4, weight α = 0.9.

``class_weighted=true`` weights each pixel's KL by its ground-truth class's ``--class-weights``
weight (a weighted mean; a pixel without a label by the teacher's class), so KD keeps the
rare-class emphasis the weighted CE beside it has: plain pixel KL is dominated by road, sky and
building and pulled rare classes (Fence, SignSymbol) to near zero on CamVid
(benchmarks/results/distill_camvid.md). ``correct_only=true`` distills only
the pixels where the teacher's argmax is the label. ``adjust=true`` keeps those pixels but
corrects them (Wen et al., "Preparing lessons", 2021: knowledge adjustment): on a labelled pixel
the teacher's top logit and the label's logit trade places, so its argmax is the label and the
rest of its distribution — the similarities KD is for — stays. A street-scene teacher gives
CamVid's Pole pixels 0.21 of its probability (``teacher vs labels``); plain KD pulls those pixels
away from the label, ``correct_only`` leaves them to CE alone. Measured on a drive held out of
training, neither beats plain KD (3 seeds: +2.31 and +2.71 against +2.65; correct_only with 5
seeds: +2.57 against +2.42 — benchmarks/results/distill_gains_heldout_0006R0.md).

``exclude=SignSymbol+Pole`` takes classes out of the distillation: their channels leave both
softmaxes (KD then matches the teacher's distribution over the other classes only) and their
labelled pixels are left to CE. It is for a teacher's blind spots. The Cityscapes model scores
21 IoU on CamVid's SignSymbol against the labels, and KD from it took the student's SignSymbol from
16.8 to 3.9 IoU while lifting Building by 18 (session 24, benchmarks/results/distill_gains.md): its
near-zero sign probability on every other pixel pulls the student's sign logit down everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgeseg.data import IGNORE_INDEX
from edgeseg.data.classes import class_index, class_key
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
from edgeseg.utils import unknown_name_message


@dataclass
class KDParams(LossParams):
    weight: float = 0.9
    temperature: float = 4.0
    class_weighted: bool = False
    correct_only: bool = False  # only pixels where the teacher's argmax is the label
    adjust: bool = False  # swap the teacher's top logit with the label's where they differ
    exclude: str = ""  # '+'-separated classes KD says nothing about (a teacher's blind spots)


def label_adjusted(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``logits`` [N, C, H, W] with each labelled pixel's top logit and its label's swapped
    (identity where they agree, and where ``target`` is no class: ignore, unlabelled)."""
    labelled = (target >= 0) & (target < logits.shape[1])
    label = target.clamp(0, logits.shape[1] - 1)[:, None]
    top = logits.argmax(1, keepdim=True)
    top_value, label_value = logits.gather(1, top), logits.gather(1, label)
    swapped = logits.scatter(1, top, label_value).scatter(1, label, top_value)
    return torch.where(labelled[:, None], swapped, logits)


def excluded_classes(spec: str, class_names: tuple[str, ...]) -> frozenset[int]:
    """Class ids named in ``spec`` ('SignSymbol+Pole'; names as the dataset spells them, any
    case); an unknown name is refused in one line listing the classes."""
    index = class_index(class_names)
    ids = set()
    for name in filter(None, (part.strip() for part in spec.split("+"))):
        if class_key(name) not in index:
            raise DistillError(
                unknown_name_message("class", name, class_names) + f" (in --loss kd:exclude={spec})"
            )
        ids.add(index[class_key(name)])
    return frozenset(ids)


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
        excluded = excluded_classes(params.exclude, ctx.class_names)
        kept = [c for c in range(ctx.num_classes) if c not in excluded]
        if params.exclude and len(kept) < 2:
            raise DistillError(f"--loss kd:exclude={params.exclude} leaves fewer than 2 classes")
        self.register_buffer("kept", torch.tensor(kept, dtype=torch.long), persistent=False)
        dropped = torch.tensor(sorted(excluded), dtype=torch.long)
        self.register_buffer("dropped", dropped, persistent=False)

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        teacher = inputs.teacher.logits
        if self.params.adjust:
            teacher = label_adjusted(teacher, inputs.target)
        student = inputs.student["out"]
        mask = kd_mask(inputs, self.params.correct_only)
        if self.dropped.numel():
            student, teacher = student[:, self.kept], teacher[:, self.kept]
            mask = mask & ~torch.isin(inputs.target, self.dropped)
        kl = pixel_kl(student, teacher, self.params.temperature)
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
