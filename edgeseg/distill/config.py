"""The distillation recipe: ``TrainConfig`` (optimiser, schedule, data, resume …) plus the teacher,
the loss specs and the modes. The checkpoint's ``recipe`` records all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeseg.errors import ConfigError
from edgeseg.outputs import check_output_dir
from edgeseg.train.config import TrainConfig
from edgeseg.utils import check_size

DEFAULT_LOSSES = ("ce", "kd")  # (1 - α)·CE + α·KL·T², α = 0.9, T = 4 (Queen's lab)


@dataclass
class DistillConfig(TrainConfig):
    """``teacher``: a spec for ``build_teacher`` (``best.pt``, ``model.tflite``, ``ARCH:TAG``,
    ``foreground:SPEC``, ``tta:SPEC``, ``owlsam:PATH``). ``losses``: ``NAME[:key=value,…]``
    specs."""

    teacher: str = ""
    losses: tuple[str, ...] = DEFAULT_LOSSES
    class_map: str | None = None
    teacher_classes: str | None = None
    teacher_mean: tuple[float, float, float] | None = None
    teacher_std: tuple[float, float, float] | None = None
    teacher_size: tuple[int, int] | None = None
    teacher_layout: str | None = None
    teacher_options: tuple[str, ...] = ()  # kind-specific key=value (owlsam: iou=0.88)
    background: tuple[str, ...] = ()
    teacher_cache: str | None = None
    unlabeled: str | None = None
    pseudo_threshold: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.teacher:
            raise ConfigError("--teacher is required (a checkpoint, model file or KIND:SPEC)")
        if not self.losses:
            raise ConfigError("--loss: give at least one loss")
        from edgeseg.distill.losses import check_loss_specs  # registers every loss

        check_loss_specs(self.losses)  # kd:temperature=-1 fails here, before any work
        self.teacher_size = check_size(self.teacher_size, "--teacher-size")
        if not 0.0 <= self.pseudo_threshold < 1.0:
            raise ConfigError("--pseudo-threshold must be in [0, 1)")
        if self.teacher_layout and self.teacher_layout.upper() not in ("NCHW", "NHWC"):
            raise ConfigError("--teacher-layout must be NCHW or NHWC")
        if self.teacher_cache:  # an existing cache may be only read: probed when made
            check_output_dir(self.teacher_cache, "--teacher-cache", probe=False)

    def as_recipe(self) -> dict[str, Any]:
        recipe = super().as_recipe()
        recipe["kind"] = "distill"
        return recipe
