"""Foreground-specialised teacher (FSI): a teacher trained on foreground-only images.

Train it with ``edgeseg train --foreground-only`` (pixels outside the union of the ground-truth
object masks set to 0, i.e. black before normalisation); at distillation time it sees the image
masked the same way while the student sees the full image. Spec: ``foreground:INNER`` where
INNER is any other teacher spec (usually that checkpoint). Needs labels, so it cannot be used
with ``--unlabeled``. Background classes come from ``--background`` (default: classes named
"background"/"__background__"/"bg").
"""

from __future__ import annotations

import torch

from edgeseg.data.classes import background_ids
from edgeseg.distill.teachers.base import (
    Teacher,
    TeacherOptions,
    build_teacher,
    foreground_mask,
    register_teacher,
)
from edgeseg.errors import DistillError


class ForegroundTeacher(Teacher):
    kind = "foreground"
    needs_masks = True

    def __init__(self, inner: Teacher, background: set[int]) -> None:
        super().__init__(inner.classes, inner.num_classes)
        self.inner = inner
        self.background = background
        self.feature_channels = inner.feature_channels
        self.option_keys = inner.option_keys

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        if masks is None:
            raise DistillError(
                "The foreground teacher needs ground-truth masks; it cannot label --unlabeled data"
            )
        keep = foreground_mask(masks, self.background).unsqueeze(1).to(pixels.dtype)
        if keep.shape[-2:] != pixels.shape[-2:]:
            raise DistillError("Masks and images differ in size; cannot mask the teacher's input")
        return self.inner.predict(pixels * keep, masks)

    def input_size(self) -> tuple[int, int] | None:
        return self.inner.input_size()

    def set_input_size(self, size: tuple[int, int] | None) -> bool:
        return self.inner.set_input_size(size)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "inner": self.inner.describe(),
            "background": sorted(self.background),
        }


@register_teacher("foreground")
def build(spec: str, options: TeacherOptions) -> ForegroundTeacher:
    inner = build_teacher(spec, options)
    return ForegroundTeacher(inner, background_ids(options.student_classes, options.background))
