"""Distillation losses behind one interface, composed from ``--loss NAME[:key=value,…]`` specs.

Each loss family is one module that subclasses :class:`DistillLoss` (an ``nn.Module``: adapters
and auxiliary heads are its parameters, adaptive weights its buffers) and registers it with
``@register_loss``. A loss declares its options as a ``Params`` dataclass; every loss has
``weight`` (its factor in the sum), ``ramp`` (steps over which that factor grows linearly from
0) and ``stop`` (the step from which it is off: early-stopped KD, Cho & Hariharan 2019 — a small
student helped by the teacher early in training can be held back by it later). Defaults follow
the seeds (response KD: T=4, weight α=0.9 beside CE at 1-α).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from edgeseg.distill.teachers.base import TeacherOutput
from edgeseg.errors import ConfigError, DistillError
from edgeseg.utils import check_range, class_registrar, parse_bool, unknown_name_message

INF = float("inf")


@dataclass(frozen=True)
class Bound:
    """A loss option's valid range: [low, high], or (low, high] with ``low_open``."""

    low: float = 0.0
    high: float = INF
    low_open: bool = False
    whole: bool = False


POSITIVE = Bound(low_open=True)  # temperatures, τ, step sizes: dividing by 0 or < 0 is wrong
NON_NEGATIVE = Bound()  # weights: 0 switches a term off, < 0 would reward the error
STEPS = Bound(whole=True)  # counts of training steps


@dataclass
class LossParams:
    """Every loss's options. ``BOUNDS`` gives each numeric option's range, checked when the
    params are made (``--loss kd:temperature=-1`` fails before any data or teacher is loaded);
    a subclass adds its own options' bounds, and any other ``*weight`` field must be ≥ 0."""

    BOUNDS: ClassVar[dict[str, Bound]] = {
        "weight": NON_NEGATIVE,
        "ramp": STEPS,
        "stop": STEPS,
        "temperature": POSITIVE,
        "tau": POSITIVE,
        "grid": Bound(low=1, high=1024, whole=True),
        "step": POSITIVE,
        "min": NON_NEGATIVE,
        "max": NON_NEGATIVE,
    }

    weight: float = 1.0
    ramp: int = 0  # steps of linear weight ramp-up from 0 (0 = full weight from step 0)
    stop: int = 0  # training step from which the loss is off (0 = never)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            bound = self.BOUNDS.get(f.name)
            if bound is None and f.name.endswith("weight"):
                bound = NON_NEGATIVE
            value = getattr(self, f.name)
            if bound is None or isinstance(value, (bool, str)):
                continue
            check_range(
                f.name, value, bound.low, bound.high, low_open=bound.low_open, whole=bound.whole
            )


@dataclass
class LossContext:
    """What a loss may need to build itself: the student's and teacher's taps and classes."""

    num_classes: int
    student_channels: dict[str, int]
    teacher_channels: dict[str, int]
    background: frozenset[int] = frozenset()
    class_weights: torch.Tensor | None = None
    aux_weight: float = 0.5
    class_names: tuple[str, ...] = ()  # the student's classes, for options that name them


@dataclass
class DistillInputs:
    """One step's tensors: student taps (``out`` logits at input size, ``low``/``mid``/``high``,
    maybe ``aux``), the teacher's output at that size, the hard targets (255 = ignore) and
    ``mask``: the pixels distillation may use (teacher valid, and labeled where labels exist)."""

    student: dict[str, torch.Tensor]
    teacher: TeacherOutput
    target: torch.Tensor
    mask: torch.Tensor


class DistillLoss(nn.Module):
    """Base class: ``forward(inputs) -> scalar`` (unweighted; the objective applies weights)."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[LossParams]] = LossParams
    needs_taps: ClassVar[bool] = False  # student feature taps (forward_features)
    needs_teacher_features: ClassVar[bool] = False

    def __init__(self, params: LossParams, ctx: LossContext) -> None:
        super().__init__()
        self.params = params

    def forward(self, inputs: DistillInputs) -> torch.Tensor:
        raise NotImplementedError


_LOSSES: dict[str, type[DistillLoss]] = {}


register_loss = class_registrar(_LOSSES, "Loss")
"""Class decorator: register a loss under its ``name`` (no name, or a second use, is an error)."""


def loss_names() -> list[str]:
    return sorted(_LOSSES)


def parse_loss_spec(text: str) -> tuple[str, dict[str, str]]:
    """``'kd:weight=0.9,temperature=4'`` → ``('kd', {'weight': '0.9', 'temperature': '4'})``."""
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name not in _LOSSES:
        raise DistillError(unknown_name_message("loss", name, _LOSSES) + " (use --loss NAME[:k=v])")
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq:
            raise DistillError(f"--loss {text}: '{part}' is not key=value")
        options[key.strip().replace("-", "_")] = value.strip()
    return name, options


def make_params(name: str, options: dict[str, str]) -> LossParams:
    """Typed params for loss ``name``: each value is cast to its field's default's type."""
    cls = _LOSSES[name].Params
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, text in options.items():
        if key not in fields:
            raise DistillError(
                unknown_name_message(f"option of loss '{name}'", key, fields)
                + f" (in --loss {name})"
            )
        default = fields[key].default
        try:
            values[key] = (
                parse_bool(text, key) if isinstance(default, bool) else type(default)(text)
            )
        except ConfigError as exc:  # "correct_only=maybe: write true or false"
            raise DistillError(f"--loss {name}: {exc}") from None
        except ValueError as exc:
            raise DistillError(
                f"--loss {name}: {key}={text} is not a {type(default).__name__}"
            ) from exc
    try:
        return cls(**values)
    except ConfigError as exc:  # "temperature -1.0 is out of range: a number > 0"
        raise DistillError(f"--loss {name}: {exc}") from None


def check_loss_specs(specs: Sequence[str]) -> None:
    """Parse every ``--loss`` spec and check its values against the loss's bounds, before any
    work: the distillation config calls it when it is made."""
    seen: set[str] = set()
    for spec in specs:
        name, options = parse_loss_spec(spec)
        if name in seen:
            raise DistillError(f"--loss {name} is given twice; give each loss once")
        seen.add(name)
        make_params(name, options)


def build_losses(specs: Sequence[str], ctx: LossContext) -> nn.ModuleDict:
    """One module per ``--loss`` spec, keyed by name (a loss given twice is an error)."""
    losses = nn.ModuleDict()
    for spec in specs:
        name, options = parse_loss_spec(spec)
        if name in losses:
            raise DistillError(f"--loss {name} is given twice; give each loss once")
        cls = _LOSSES[name]
        if cls.needs_teacher_features and not ctx.teacher_channels:
            raise DistillError(
                f"--loss {name} needs teacher features, which only checkpoint teachers have; "
                "use a checkpoint teacher or drop this loss"
            )
        losses[name] = cls(make_params(name, options), ctx)
    return losses


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask``; 0 (still in the graph) when nothing is selected."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def kd_mask(inputs: DistillInputs, correct_only: bool) -> torch.Tensor:
    """The pixels a KD loss may use; with ``correct_only`` only those where the teacher's argmax
    is the label — so a teacher that is wrong on a tenth of the pixels (an underfit one) does not
    pull the student away from the labels its CE term teaches (in pseudo-label mode every valid
    pixel is "correct": the labels are the teacher's)."""
    if not correct_only:
        return inputs.mask
    return inputs.mask & (inputs.teacher.logits.argmax(1) == inputs.target)


def describe_losses(losses: nn.ModuleDict) -> list[dict[str, Any]]:
    """JSON-safe recipe entries: each loss's name and resolved params."""
    return [{"name": name, **dataclasses.asdict(loss.params)} for name, loss in losses.items()]
