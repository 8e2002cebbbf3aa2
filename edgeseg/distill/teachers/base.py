"""The Teacher protocol: an image batch in, per-class logits at the student's size out.

Every teacher kind (an edgeseg/torchvision checkpoint, an exported model file run in its own
runtime, OWLv2 + SAM, a foreground-specialised teacher) is one module that subclasses
:class:`Teacher` and registers itself with ``@register_teacher``. A teacher sees *pixels*: RGB in
0..1, ``[N, 3, H, W]``, and normalises them its own way (its checkpoint's mean/std, an artifact's
``(x - 127.5) / 127.5``), so it never depends on how the student was normalised. Its logits are
in its own classes; :func:`teach` resizes them to the student's output size and maps them onto
the student's classes (:mod:`edgeseg.distill.classmap`). Teachers are frozen: no gradient ever
reaches them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F

from edgeseg.data import IGNORE_INDEX
from edgeseg.distill.classmap import ClassMap
from edgeseg.errors import DistillError
from edgeseg.models._base import VOC_CLASSES
from edgeseg.utils import check_size, unknown_name_message

# Cityscapes' 19 training ids, in the order its models output them (no background class).
CITYSCAPES_CLASSES = (
    "road",
    "sidewalk",
    "building",
    "wall",
    "fence",
    "pole",
    "traffic light",
    "traffic sign",
    "vegetation",
    "terrain",
    "sky",
    "person",
    "rider",
    "car",
    "truck",
    "bus",
    "train",
    "motorcycle",
    "bicycle",
)
NAMED_CLASS_LISTS = {"voc": VOC_CLASSES, "cityscapes": CITYSCAPES_CLASSES}


@dataclass
class TeacherOptions:
    """How to run a teacher when its file does not say (or to override what it says).

    ``mean``/``std`` are in 0..1 pixel units (Google's ``(x-127.5)/127.5`` is 0.5/0.5);
    ``classes`` is "voc", a ``classes.txt`` path or a comma list; ``size`` is (H, W).
    """

    classes: str | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    size: tuple[int, int] | None = None
    layout: str | None = None  # "NCHW" | "NHWC"
    background: tuple[str, ...] = ()  # classes that are not foreground (foreground teacher, FSI)
    student_classes: tuple[str, ...] = ()  # the labels' classes (what ground-truth ids mean)
    extra: dict[str, str] = field(default_factory=dict)  # kind-specific (owlsam: iou=0.8, …)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def __post_init__(self) -> None:
        # --teacher-size in range before a teacher is loaded (1x1 crashes the teacher's
        # backbone, 30000x30000 exhausts memory): the same bounds as every --size
        self.size = check_size(self.size, "--teacher-size")


def parse_teacher_options(options: Sequence[str]) -> dict[str, str]:
    """Repeated ``--teacher-option KEY=VALUE`` → ``{KEY: VALUE}`` (``TeacherOptions.extra``)."""
    bad = [opt for opt in options if "=" not in opt or not opt.split("=")[0].strip()]
    if bad:
        raise DistillError(f"--teacher-option '{bad[0]}': write KEY=VALUE, e.g. iou=0.88")
    return {k.strip(): v.strip() for k, v in (o.split("=", 1) for o in options)}


@dataclass
class TeacherOutput:
    """Student-class logits ``[N, Cs, h, w]``, which pixels are valid (their teacher class has
    a student counterpart) and, for teachers that have them, feature taps."""

    logits: torch.Tensor
    valid: torch.Tensor
    features: dict[str, torch.Tensor] | None = None


class Teacher:
    """Base class of every teacher kind; subclasses implement ``predict``."""

    kind: ClassVar[str] = ""
    needs_masks: ClassVar[bool] = False  # sees ground truth (the foreground teacher masks pixels)
    maps_classes: ClassVar[bool] = False  # speaks student classes itself (``teach_mapped``)
    option_keys: tuple[str, ...] = ()  # the ``--teacher-option`` keys this kind understands

    def __init__(self, classes: tuple[str, ...] | None, num_classes: int) -> None:
        self.classes = classes
        self.num_classes = num_classes
        self.feature_channels: dict[str, int] = {}

    def predict(
        self, pixels: torch.Tensor, masks: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
        """(logits ``[N, C_teacher, h, w]`` at any size, features or None) for 0..1 pixels."""
        raise NotImplementedError

    def input_size(self) -> tuple[int, int] | None:
        """(H, W) the teacher resizes its input to; None: it runs at the batch's size."""
        return None

    def set_input_size(self, size: tuple[int, int] | None) -> bool:
        """Run at ``size`` from now on (multi-scale TTA); False where the size is fixed."""
        return False

    def describe(self) -> dict:
        """JSON-safe record for the checkpoint's recipe."""
        return {"kind": self.kind, "num_classes": self.num_classes}


@torch.no_grad()
def teach(
    teacher: Teacher,
    class_map: ClassMap,
    pixels: torch.Tensor,
    size: tuple[int, int],
    masks: torch.Tensor | None = None,
) -> TeacherOutput:
    """Run ``teacher`` on ``pixels`` and bring its logits to ``size`` and the student's classes
    (a teacher that maps its own classes, the ensemble, does both itself)."""
    if teacher.maps_classes:
        return teacher.teach_mapped(pixels, size, masks)
    logits, features = teacher.predict(pixels, masks)
    logits = logits.float()
    if tuple(logits.shape[-2:]) != tuple(size):
        logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
    logits, valid = class_map.apply(logits)
    return TeacherOutput(logits.detach(), valid, features)


def teacher_device(teacher: Teacher) -> torch.device:
    """Where the teacher's weights live; wrappers (``foreground:``, ``tta:``) ask their inner."""
    while getattr(teacher, "model", None) is None and hasattr(teacher, "inner"):
        teacher = teacher.inner
    model = getattr(teacher, "model", None)
    return next(model.parameters()).device if model is not None else torch.device("cpu")


def foreground_mask(masks: torch.Tensor, background: set[int]) -> torch.Tensor:
    """True where the label is an object class: neither a background class nor ignore."""
    keep = masks != IGNORE_INDEX
    for cls in background:
        keep &= masks != cls
    return keep


# --- registry ---------------------------------------------------------------------------------

Builder = Callable[[str, TeacherOptions], Teacher]
_KINDS: dict[str, tuple[Builder, Callable[[str], bool]]] = {}


def register_teacher(
    kind: str, accepts: Callable[[str], bool] = lambda spec: False
) -> Callable[[Builder], Builder]:
    """Register ``builder(spec, options)`` as teacher ``kind``; ``accepts(spec)`` lets a bare
    spec (a path) pick its kind without the ``kind:`` prefix."""

    def decorate(builder: Builder) -> Builder:
        if kind in _KINDS:
            raise ValueError(f"Teacher kind '{kind}' is registered twice")
        _KINDS[kind] = (builder, accepts)
        return builder

    return decorate


def teacher_kinds() -> list[str]:
    return sorted(_KINDS)


def build_teacher(spec: str, options: TeacherOptions | None = None) -> Teacher:
    """``KIND:REST`` or a bare spec that one kind accepts (``model.tflite``, ``best.pt``)."""
    options = options or TeacherOptions()
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    if sep and kind in _KINDS:
        return _checked(_KINDS[kind][0](rest, options), options)
    for builder, accepts in _KINDS.values():
        if accepts(spec):
            return _checked(builder(spec, options), options)
    if Path(spec).suffix and not Path(spec).exists():
        raise DistillError(f"Teacher file {spec} does not exist; check the path")
    raise DistillError(
        unknown_name_message("teacher", spec, [f"{k}:" for k in _KINDS])
        + " (or a checkpoint .pt, a model name, or a .tflite/.onnx/.pte file)"
    )


def _checked(teacher: Teacher, options: TeacherOptions) -> Teacher:
    """A ``--teacher-option`` the teacher does not use is a mistake, not something to ignore."""
    unknown = sorted(set(options.extra) - set(teacher.option_keys))
    if unknown:
        takes = ", ".join(teacher.option_keys) or "no options"
        raise DistillError(
            f"--teacher-option {unknown[0]}: the {teacher.kind} teacher takes {takes}"
        )
    return teacher


def class_list(text: str | None) -> tuple[str, ...] | None:
    """``--teacher-classes``: a named list ("voc"), a classes.txt path or "a,b,c"."""
    if not text:
        return None
    if text.lower() in NAMED_CLASS_LISTS:
        return tuple(NAMED_CLASS_LISTS[text.lower()])
    if Path(text).is_file():
        from edgeseg.data.classes import read_classes_file

        return read_classes_file(Path(text))[0]
    return tuple(c.strip() for c in text.split(",") if c.strip())
