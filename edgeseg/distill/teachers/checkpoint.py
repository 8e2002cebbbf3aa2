"""Checkpoint teacher: any edgeseg model — a trained ``.pt`` or ``ARCH[:WEIGHTS]`` — frozen.

Specs: ``runs/teacher/best.pt`` (an edgeseg checkpoint: classes and mean/std from its metadata),
``deeplabv3_resnet50:coco_voc`` (a registered model with a weights tag: classes and normalisation
from the tag's config) or ``fcn_resnet50:/path/torchvision.pth`` (a torchvision-compatible file:
the class count is read from its classifier). The model runs in eval mode under ``no_grad`` with
``requires_grad`` off, and returns its feature taps for feature/affinity distillation.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from edgeseg.checkpoint import load_model
from edgeseg.data import IMAGENET_MEAN, IMAGENET_STD
from edgeseg.distill.teachers.base import Teacher, TeacherOptions, class_list, register_teacher
from edgeseg.errors import CheckpointError, DistillError
from edgeseg.models import create_model, list_models, load_weights_file, pretrained_cfgs


class CheckpointTeacher(Teacher):
    kind = "checkpoint"

    def __init__(
        self,
        model: torch.nn.Module,
        classes: tuple[str, ...] | None,
        mean,
        std,
        options: TeacherOptions,
        source: str,
        trained_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(classes, int(model.num_classes))
        self.model = model.eval().to(options.device)
        for param in self.model.parameters():
            param.requires_grad_(False)
        self.mean = torch.tensor(mean, dtype=torch.float32, device=options.device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=options.device).view(1, 3, 1, 1)
        # --teacher-size, else the size the checkpoint was trained at: the teacher cache feeds the
        # photo at its own resolution, and a model trained on 120×160 thumbnails is lost on a
        # 360×480 CamVid photo (objects three times the size it learnt them at)
        self.size = options.size or (tuple(trained_size) if trained_size else None)
        self.source = source
        self.feature_channels = dict(getattr(model, "feature_channels", {}))

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        self.model.eval()
        x = (pixels - self.mean) / self.std
        if self.size is not None and tuple(x.shape[-2:]) != tuple(self.size):
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        taps = self.model.forward_features(x)
        return taps["out"], {k: v for k, v in taps.items() if k not in ("out", "aux")}

    def input_size(self) -> tuple[int, int] | None:
        return tuple(self.size) if self.size else None

    def set_input_size(self, size: tuple[int, int] | None) -> bool:
        self.size = size
        return True

    def describe(self) -> dict:
        """Everything that changes the logits, so a teacher cache made under other options
        (another ``--teacher-size``, mean/std, or a retrained file at the same path) is rebuilt."""
        record = {
            **super().describe(),
            "source": self.source,
            "input_size": list(self.size) if self.size else None,
            "mean": self.mean.flatten().tolist(),
            "std": self.std.flatten().tolist(),
        }
        path = Path(self.source)
        if path.is_file():
            stat = path.stat()
            record["file"] = {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        return record


def _accepts(spec: str) -> bool:
    path = Path(spec)
    if path.suffix in (".pt", ".pth") and path.is_file():
        return True
    return spec.partition(":")[0] in list_models()


@register_teacher("checkpoint", accepts=_accepts)
def build(spec: str, options: TeacherOptions) -> CheckpointTeacher:
    arch, _, weights = spec.partition(":")
    if arch in list_models():
        return _from_registry(arch, weights or None, options, spec)
    try:
        model, meta = load_model(spec)
    except CheckpointError as exc:
        raise DistillError(f"Teacher {spec}: {exc}") from exc
    classes = class_list(options.classes) or tuple(meta.classes)
    mean, std = options.mean or meta.mean, options.std or meta.std
    size = tuple(meta.input_size) if meta.input_size else None
    return CheckpointTeacher(model, classes, mean, std, options, spec, trained_size=size)


def _from_registry(arch: str, weights: str | None, options: TeacherOptions, spec: str):
    """``ARCH:TAG`` (classes from the tag's config) or ``ARCH:FILE`` (count from the file)."""
    cfg = pretrained_cfgs(arch).get(weights or "")
    if weights is None:
        raise DistillError(
            f"Teacher '{spec}' has no weights: use {arch}:TAG "
            f"({', '.join(pretrained_cfgs(arch)) or 'no tags'}) or {arch}:FILE.pth"
        )
    if cfg is not None:
        num_classes, classes = cfg.num_classes, cfg.classes
        mean, std = cfg.mean, cfg.std
    elif not _looks_like_file(weights):  # a tag the architecture does not know, not a path
        known = ", ".join(pretrained_cfgs(arch)) or "none"
        raise DistillError(
            f"Teacher '{spec}': unknown weights tag '{weights}' for {arch} (known: {known}); "
            f"or pass {arch}:FILE.pth"
        )
    else:
        num_classes, classes = _classes_in_file(arch, weights), None
        mean, std = IMAGENET_MEAN, IMAGENET_STD
    classes = class_list(options.classes) or classes
    model = create_model(arch, num_classes=num_classes, weights=weights)
    return CheckpointTeacher(
        model, classes, options.mean or mean, options.std or std, options, spec
    )


def _looks_like_file(text: str) -> bool:
    """A path or URL (``ARCH:FILE``) rather than a tag (``ARCH:TAG``)."""
    return "/" in text or "\\" in text or Path(text).suffix != "" or Path(text).exists()


def _classes_in_file(arch: str, weights: str) -> int:
    """Output channels of the classifier's last layer in a state_dict file."""
    probe = create_model(arch, num_classes=1)
    state = load_weights_file(weights, arch=arch)
    for prefix in probe.classifier_keys:
        key = f"{prefix}weight"
        if key in state:
            return int(state[key].shape[0])
    raise DistillError(f"{weights} has no '{probe.classifier_keys[0]}weight': not a {arch} file")
