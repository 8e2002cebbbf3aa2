"""The distillation objective: teacher → student-size, student-class logits; weighted losses.

One step: undo the student's normalisation to get 0..1 pixels for the teacher (each teacher
normalises its own way), run the frozen teacher (or read its cached logits), decide the hard
targets (labels, or the teacher's confident argmax in pseudo-label mode) and the distillation mask
(teacher valid, and labeled where there are labels), then sum ``weight · ramp · loss`` over the
losses not yet stopped.
"""

from __future__ import annotations

import torch
from torch import nn

from edgeseg.data import IGNORE_INDEX
from edgeseg.data.subsets import UNLABELED
from edgeseg.distill.classmap import ClassMap
from edgeseg.distill.losses import DistillInputs
from edgeseg.distill.teachers import Teacher, TeacherOutput, teach
from edgeseg.train.cutmix import CutMix, paste
from edgeseg.train.objective import Batch, Objective, has_aux_head


def pseudo_labels(teacher: TeacherOutput, threshold: float) -> torch.Tensor:
    """Teacher argmax where it is valid and its probability ≥ ``threshold``; 255 elsewhere."""
    confidence, labels = teacher.logits.softmax(1).max(1)
    keep = teacher.valid & (confidence >= threshold)
    return torch.where(keep, labels, torch.full_like(labels, IGNORE_INDEX))


def pasted_teacher(
    teacher: TeacherOutput, partner: torch.Tensor, box: torch.Tensor
) -> TeacherOutput:
    """The teacher's output on a CutMix batch: logits, validity and feature taps pasted with the
    same boxes as the pixels (each box resized to the tensor's own size)."""
    features = teacher.features
    if features is not None:
        features = {name: paste(value, partner, box) for name, value in features.items()}
    logits, valid = paste(teacher.logits, partner, box), paste(teacher.valid, partner, box)
    return TeacherOutput(logits, valid, features)


class DistillObjective(Objective):
    def __init__(
        self,
        teacher: Teacher,
        class_map: ClassMap,
        losses: nn.ModuleDict,
        mean: list[float],
        std: list[float],
        *,
        labeled: bool = True,
        pseudo_threshold: float = 0.5,
        pseudo_rest: bool = False,
        cache=None,
        cutmix: CutMix | None = None,
    ) -> None:
        super().__init__()
        self.teacher, self.class_map, self.losses = teacher, class_map, losses
        self.labeled, self.pseudo_threshold, self.cache = labeled, pseudo_threshold, cache
        self.pseudo_rest = pseudo_rest
        self.cutmix = cutmix if cutmix is not None else CutMix(0.0)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("step", torch.tensor(0, dtype=torch.long))
        self.needs_taps = any(loss.needs_taps for loss in losses.values())
        self.last: dict[str, float] = {}

    def teacher_output(self, batch: Batch) -> TeacherOutput:
        size = tuple(batch.images.shape[-2:])
        if self.cache is not None:
            return self.cache.lookup(batch.extra, batch.images.device)
        pixels = (batch.images * self.std + self.mean).clamp(0.0, 1.0)
        masks = batch.masks if self.teacher.needs_masks else None
        return teach(self.teacher, self.class_map, pixels, size, masks)

    def student_output(self, model: nn.Module, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.needs_taps or ("ce" in self.losses and has_aux_head(model)):
            return model.forward_features(images)
        return {"out": model(images)}

    def forward(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        teacher = self.teacher_output(batch)
        images, masks, draw = self.cutmix.mix(batch.images, batch.masks, self.training)
        if draw is not None:  # after the teacher: its logits are pasted like pixels and labels
            teacher = pasted_teacher(teacher, *draw)
        target, mask = self.targets(masks, teacher)
        inputs = DistillInputs(self.student_output(model, images), teacher, target, mask)
        total = batch.images.new_zeros(())
        for name, loss in self.losses.items():
            if 0 < loss.params.stop <= int(self.step):  # stopped: not even computed
                self.last[name] = 0.0
                continue
            value = loss(inputs)
            ramp = loss.params.ramp
            factor = min(1.0, float(self.step) / ramp) if ramp > 0 else 1.0
            total = total + loss.params.weight * factor * value
            self.last[name] = float(value.detach())
        if self.training:
            self.step += 1
        return total

    def targets(
        self, masks: torch.Tensor, teacher: TeacherOutput
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(hard targets, distillation mask). Labelled pixels: their label, distilled where the
        teacher is valid. Pixels of unlabelled images (:data:`UNLABELED`, ``--labels``) are
        distilled wherever the teacher is valid, and get its confident argmax as a hard target
        with ``pseudo_rest``, else none. Pseudo-label mode (no labels at all): the argmax."""
        if not self.labeled:
            return pseudo_labels(teacher, self.pseudo_threshold), teacher.valid
        unlabeled = masks == UNLABELED
        mask = teacher.valid & ((masks != IGNORE_INDEX) | unlabeled)
        if not bool(unlabeled.any()):
            return masks, mask
        rest = (
            pseudo_labels(teacher, self.pseudo_threshold)
            if self.pseudo_rest
            else torch.full_like(masks, IGNORE_INDEX)
        )
        return torch.where(unlabeled, rest, masks), mask

    def info(self) -> str:
        parts = [f"{k} {v:.3f}" for k, v in self.last.items()]
        parts += [
            f"λ {float(loss.kl_weight):.2f}"
            for loss in self.losses.values()
            if hasattr(loss, "kl_weight")
        ]
        return " ".join(parts)
