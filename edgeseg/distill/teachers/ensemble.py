"""Ensemble teacher (``--teacher A --teacher B [--teacher-weight …]``): teachers that know
different things, averaged where each is trusted.

Each member runs in its own way and is mapped onto the student's classes by its own class map
(a Cityscapes model folded onto CamVid, a CamVid checkpoint as it is). The ensemble's target is
the weighted mean of the members' *probabilities*, per class: ``p_c = Σ_t w_tc·v_t·p_tc /
Σ_t w_tc·v_t`` (``v_t``: the member is valid at that pixel), renormalised over classes and
returned as log-probabilities — so losses see one teacher, and the teacher cache stores it like
any other. Per-class weights say whom to trust on what: ``--teacher-weight 1,Sky=2,Road=2`` for
the street-scene model, ``--teacher-weight 1,Fence=3`` for the one trained on the target data.
A pixel is valid where any member with weight is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgeseg.data.classes import class_index, class_key
from edgeseg.distill.classmap import ClassMap
from edgeseg.distill.teachers.base import Teacher, TeacherOutput, teach, teacher_device
from edgeseg.errors import DistillError
from edgeseg.utils import unknown_name_message

PROB_FLOOR = 1e-8  # log-probability floor: a class no member gives any mass gets log(1e-8)


def parse_weights(spec: str | None, classes: tuple[str, ...]) -> torch.Tensor:
    """``"W"`` or ``"W,Class=W,…"`` → per-student-class weights (default 1); one line on error."""
    weights = torch.ones(len(classes))
    if not spec:
        return weights
    index = class_index(classes)
    for n, part in enumerate(p.strip() for p in spec.split(",")):
        name, sep, number = part.rpartition("=") if "=" in part else ("", "", part)
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not value >= 0 or value == float("inf"):
            raise DistillError(
                f"--teacher-weight '{spec}': '{part}' is not a weight >= 0 (write W or "
                "W,Class=W, e.g. 1,Sky=2)"
            )
        if not sep:
            if n:
                raise DistillError(f"--teacher-weight '{spec}': the bare weight comes first")
            weights.fill_(value)
        elif class_key(name) in index:
            weights[index[class_key(name)]] = value
        else:
            raise DistillError(
                f"--teacher-weight '{spec}': "
                + unknown_name_message("student class", name.strip(), classes)
            )
    return weights


@dataclass
class Member:
    teacher: Teacher
    class_map: ClassMap
    weights: torch.Tensor  # [num student classes]


class EnsembleTeacher(Teacher):
    kind = "ensemble"
    maps_classes = True  # members map themselves; the ensemble speaks student classes

    def __init__(self, members: list[Member], classes: tuple[str, ...]) -> None:
        super().__init__(tuple(classes), len(classes))
        if len(members) < 2:
            raise DistillError("An ensemble needs at least two --teacher")
        if not any(bool((m.weights > 0).any()) for m in members):
            raise DistillError("--teacher-weight: every weight is 0; give some teacher weight")
        self.members = members
        self.needs_masks = any(m.teacher.needs_masks for m in members)

    @torch.no_grad()
    def teach_mapped(
        self, pixels: torch.Tensor, size: tuple[int, int], masks: torch.Tensor | None = None
    ) -> TeacherOutput:
        """The members' weighted mean probability at ``size``, as log-probabilities."""
        total = weight_sum = None
        for member in self.members:
            where = teacher_device(member.teacher)
            out = teach(
                member.teacher,
                member.class_map,
                pixels.to(where),
                size,
                masks.to(where) if masks is not None and member.teacher.needs_masks else None,
            )
            probs = out.logits.float().softmax(1).to(pixels.device)
            w = member.weights.to(pixels.device).view(1, -1, 1, 1)
            w = w * out.valid.to(pixels.device)[:, None].float()
            total = w * probs if total is None else total + w * probs
            weight_sum = w if weight_sum is None else weight_sum + w
        probs = total / weight_sum.clamp_min(1e-12)
        probs = probs / probs.sum(1, keepdim=True).clamp_min(1e-12)
        valid = weight_sum.sum(1) > 0
        return TeacherOutput(probs.clamp_min(PROB_FLOOR).log(), valid)

    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        out = self.teach_mapped(pixels, tuple(pixels.shape[-2:]), masks)
        return out.logits, None

    def describe(self) -> dict:
        return {
            **super().describe(),
            "members": [m.teacher.describe() for m in self.members],
            "class_maps": [[list(s) for s in m.class_map.sources or ()] for m in self.members],
            "weights": [m.weights.tolist() for m in self.members],
        }
