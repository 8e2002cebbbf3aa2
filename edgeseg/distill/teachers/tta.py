"""Test-time-augmented teacher: ``tta:SPEC`` averages any teacher over flips and input scales.

Why: soft targets are only as good as the teacher, and flip + multi-scale inference is the
cheapest stronger teacher there is — no training, and behind ``--teacher-cache`` it costs the
student nothing per step (the passes run once, when the cache fills). ``--teacher-option``s:

- ``tta_flip=true|false`` (default true): add a horizontally flipped pass, flipped back.
- ``tta_scales=1,1.5`` (default 1): input sizes relative to the teacher's own (``--teacher-size``
  or the batch's size). Only teachers whose input size can change take scales other than 1 —
  checkpoints, and wrappers of them; an exported file runs at the size it was exported for.

Logits are averaged (not probabilities), so KD temperatures and channel-wise softmaxes act on
them exactly as on a single teacher's logits; every pass is resized to the first pass's size.
Features, for feature/affinity KD, are the first pass's (scale ``tta_scales[0]``, unflipped).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from edgeseg.distill.teachers.base import Teacher, TeacherOptions, build_teacher, register_teacher
from edgeseg.errors import ConfigError, DistillError
from edgeseg.utils import parse_bool

OPTION_KEYS = ("tta_flip", "tta_scales")


class TTATeacher(Teacher):
    kind = "tta"

    def __init__(self, inner: Teacher, scales: tuple[float, ...], flip: bool) -> None:
        super().__init__(inner.classes, inner.num_classes)
        self.inner, self.scales, self.flip = inner, scales, flip
        self.needs_masks = inner.needs_masks
        self.feature_channels = inner.feature_channels
        self.option_keys = (*inner.option_keys, *OPTION_KEYS)
        self.base_size = inner.input_size()
        if any(s != 1.0 for s in scales) and not inner.set_input_size(self.base_size):
            raise DistillError(
                f"tta_scales {','.join(map(str, scales))}: the {inner.kind} teacher runs at a "
                "fixed input size; use tta_scales=1 (flip only) or a checkpoint teacher"
            )

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        base = self.base_size or tuple(pixels.shape[-2:])
        total, features, out_size, passes = None, None, None, 0
        try:
            for scale in self.scales:
                self.inner.set_input_size(self.base_size if scale == 1.0 else _scaled(base, scale))
                for flipped in (False, True) if self.flip else (False,):
                    x = pixels.flip(-1) if flipped else pixels
                    m = masks.flip(-1) if flipped and masks is not None else masks
                    logits, feats = self.inner.predict(x, m)
                    logits = logits.float().flip(-1) if flipped else logits.float()
                    if out_size is None:
                        out_size, features = tuple(logits.shape[-2:]), feats
                    elif tuple(logits.shape[-2:]) != out_size:
                        logits = F.interpolate(
                            logits, size=out_size, mode="bilinear", align_corners=False
                        )
                    total = logits if total is None else total + logits
                    passes += 1
        finally:
            self.inner.set_input_size(self.base_size)
        return total / passes, features

    def input_size(self) -> tuple[int, int] | None:
        return self.base_size

    def describe(self) -> dict:
        return {
            **super().describe(),
            "inner": self.inner.describe(),
            "scales": list(self.scales),
            "flip": self.flip,
        }


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _parse(extra: dict[str, str]) -> tuple[tuple[float, ...], bool]:
    try:
        flip = parse_bool(extra.get("tta_flip", "true"), "--teacher-option tta_flip")
    except ConfigError as exc:
        raise DistillError(str(exc)) from None
    try:
        scales = tuple(float(s) for s in extra.get("tta_scales", "1").split(",") if s.strip())
    except ValueError:
        scales = ()
    if not scales or any(s <= 0 for s in scales):
        raise DistillError(
            f"--teacher-option tta_scales={extra.get('tta_scales')}: write positive numbers, "
            "e.g. tta_scales=1,1.5"
        )
    return scales, flip


@register_teacher("tta")
def build(spec: str, options: TeacherOptions) -> TTATeacher:
    scales, flip = _parse(options.extra)
    rest = {k: v for k, v in options.extra.items() if k not in OPTION_KEYS}
    inner = build_teacher(spec, replace(options, extra=rest))
    return TTATeacher(inner, scales, flip)
