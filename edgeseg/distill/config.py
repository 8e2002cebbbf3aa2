"""The distillation recipe: ``TrainConfig`` (optimiser, schedule, data, resume …) plus the teacher,
the loss specs and the modes. The checkpoint's ``recipe`` records all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeseg.errors import ConfigError
from edgeseg.outputs import check_output_dir
from edgeseg.train.config import TrainConfig
from edgeseg.utils import check_size

PER_TEACHER = ("teacher", "class_map", "teacher_classes")
PSEUDO_THRESHOLD = 0.5  # min teacher confidence for a pseudo-label
DEFAULT_LOSSES = ("ce", "kd")  # (1 - α)·CE + α·KL·T², α = 0.9, T = 4 (Queen's lab)


@dataclass
class DistillConfig(TrainConfig):
    """``teacher``: a spec for ``build_teacher`` (``best.pt``, ``model.tflite``, ``ARCH:TAG``,
    ``foreground:SPEC``, ``tta:SPEC``, ``owlsam:PATH``). ``losses``: ``NAME[:key=value,…]``
    specs."""

    teacher: str | tuple[str, ...] = ""  # several: an ensemble (mean of mapped probabilities)
    losses: tuple[str, ...] = DEFAULT_LOSSES
    class_map: str | tuple[str, ...] | None = None  # one for all teachers, or one each ("-": none)
    teacher_classes: str | tuple[str, ...] | None = None  # likewise
    teacher_weights: tuple[str, ...] = ()  # per ensemble member: "W" or "W,Class=W,…"
    teacher_mean: tuple[float, float, float] | None = None
    teacher_std: tuple[float, float, float] | None = None
    teacher_size: tuple[int, int] | None = None
    teacher_layout: str | None = None
    teacher_options: tuple[str, ...] = ()  # kind-specific key=value (owlsam: iou=0.88)
    background: tuple[str, ...] = ()
    teacher_cache: str | None = None
    unlabeled: str | None = None
    pseudo_threshold: float = PSEUDO_THRESHOLD
    pseudo_labels: bool = False  # with --labels: the teacher's confident argmax on the rest

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in PER_TEACHER:  # one value is spelled as itself, in recipes and commands
            value = getattr(self, name)
            if isinstance(value, list | tuple) and len(value) == 1:
                setattr(self, name, value[0])
        if not self.teacher or not all(self.teachers):
            raise ConfigError("--teacher is required (a checkpoint, model file or KIND:SPEC)")
        self._check_ensemble()
        if not self.losses:
            raise ConfigError("--loss: give at least one loss")
        from edgeseg.distill.losses import check_loss_specs  # registers every loss

        check_loss_specs(self.losses)  # kd:temperature=-1 fails here, before any work
        self.teacher_size = check_size(self.teacher_size, "--teacher-size")
        if not 0.0 <= self.pseudo_threshold < 1.0:
            raise ConfigError("--pseudo-threshold must be in [0, 1)")
        if self.teacher_layout and self.teacher_layout.upper() not in ("NCHW", "NHWC"):
            raise ConfigError("--teacher-layout must be NCHW or NHWC")
        if self.labels and self.unlabeled:
            raise ConfigError("--labels and --unlabeled exclude each other; pass one")
        if self.pseudo_labels and not self.labels:
            raise ConfigError("--pseudo-labels labels the rest of a --labels split; pass --labels")
        if self.pseudo_threshold != PSEUDO_THRESHOLD and not (self.pseudo_labels or self.unlabeled):
            raise ConfigError(
                f"--pseudo-threshold {self.pseudo_threshold} has no pseudo-labels to act on; add "
                "--pseudo-labels (with --labels) or --unlabeled, or drop it"
            )
        if self.teacher_cache:  # an existing cache may be only read: probed when made
            check_output_dir(self.teacher_cache, "--teacher-cache", probe=False)

    def _check_background(self) -> None:
        """Distillation reads ``background`` for the ``fsi`` loss and ``foreground:`` teachers,
        which check it against the classes when they are built."""

    @property
    def teachers(self) -> tuple[str, ...]:
        return (self.teacher,) if isinstance(self.teacher, str) else tuple(self.teacher)

    def per_teacher(self, name: str) -> list[str | None]:
        """``class_map`` / ``teacher_classes`` for each teacher in order ("-" → None)."""
        value = getattr(self, name)
        values = [value] * len(self.teachers) if not isinstance(value, tuple) else list(value)
        return [None if v in (None, "-") else v for v in values]

    def _check_ensemble(self) -> None:
        count = len(self.teachers)
        for name in PER_TEACHER[1:]:
            value = getattr(self, name)
            if isinstance(value, tuple) and len(value) != count:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(
                    f"{flag} is given {len(value)} times for {count} teachers; give it once "
                    "(for all) or once per --teacher, in order ('-' for none)"
                )
        if self.teacher_weights and count == 1:  # a mean of one member: it would do nothing
            raise ConfigError(
                "--teacher-weight weighs the members of an ensemble and has no effect with one "
                "--teacher; drop it, or add the other teachers with --teacher"
            )
        if self.teacher_weights and len(self.teacher_weights) != count:
            raise ConfigError(
                f"--teacher-weight is given {len(self.teacher_weights)} times for {count} "
                "teachers; give one per --teacher, in order"
            )
        if count > 1 and self.unlabeled:
            raise ConfigError("--unlabeled takes one teacher; drop the extra --teacher")

    def as_recipe(self) -> dict[str, Any]:
        recipe = super().as_recipe()
        recipe["kind"] = "distill"
        return recipe
