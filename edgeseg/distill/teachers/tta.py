"""Test-time-augmented teacher: ``tta:SPEC`` averages any teacher over flips and input scales.

Why: soft targets are only as good as the teacher, and flip + multi-scale inference is the
cheapest stronger teacher there is — no training, and behind ``--teacher-cache`` it costs the
student nothing per step (the passes run once, when the cache fills). ``--teacher-option``s:

- ``tta_flip=true|false`` (default true): add a horizontally flipped pass, flipped back.
- ``tta_scales=1,1.5`` (default 1): input sizes relative to the teacher's own (``--teacher-size``
  or the batch's size). An exported file runs at the size it was exported for, so there a scale
  s > 1 is a sliding window instead: overlapping windows 1/s of the image's height (and the
  teacher input's aspect), each run at the file's input size and stitched back by averaging.
  Why: a fixed-size teacher squeezes the whole photo into its input, and thin things shrink
  below what it learnt to see — Coral's Cityscapes DeepLab, trained on 513-pixel crops of
  2048-wide streets, sees CamVid's 480-wide frames 4× smaller than it was taught (on 17 CamVid
  training frames: mIoU 57.9 whole, 65.3 with 270-pixel windows, Pole 10.7 → 21.0).

Logits are averaged (not probabilities), so KD temperatures and channel-wise softmaxes act on
them exactly as on a single teacher's logits; every pass is resized to the first pass's size
(with windows: to the image's).
Features, for feature/affinity KD, are the first pass's (scale ``tta_scales[0]``, unflipped).
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F

from edgeseg.distill.teachers.base import Teacher, TeacherOptions, build_teacher, register_teacher
from edgeseg.errors import ConfigError, DistillError
from edgeseg.utils import parse_bool

OPTION_KEYS = ("tta_flip", "tta_scales")
MAX_WINDOW_SCALE = 4.0  # windows a quarter of the image high: ~35 teacher runs a 4:3 frame


class TTATeacher(Teacher):
    kind = "tta"

    def __init__(self, inner: Teacher, scales: tuple[float, ...], flip: bool) -> None:
        super().__init__(inner.classes, inner.num_classes)
        self.inner, self.scales, self.flip = inner, scales, flip
        self.needs_masks = inner.needs_masks
        self.feature_channels = inner.feature_channels
        self.option_keys = (*inner.option_keys, *OPTION_KEYS)
        self.base_size = inner.input_size()
        self.windows = any(s != 1.0 for s in scales) and not inner.set_input_size(self.base_size)
        if self.windows and not all(1.0 <= s <= MAX_WINDOW_SCALE for s in scales):
            raise DistillError(
                f"tta_scales {','.join(map(str, scales))}: the {inner.kind} teacher runs at a "
                f"fixed input size, where a scale above 1 runs it on overlapping windows; use "
                f"scales from 1 to {MAX_WINDOW_SCALE:g}, e.g. tta_scales=1,1.5"
            )

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        base = self.base_size or tuple(pixels.shape[-2:])
        total, features, passes = None, None, 0
        out_size = tuple(pixels.shape[-2:]) if self.windows else None  # windows: stitched there
        try:
            for scale in self.scales:
                if not self.windows:
                    self.inner.set_input_size(
                        self.base_size if scale == 1.0 else _scaled(base, scale)
                    )
                for flipped in (False, True) if self.flip else (False,):
                    x = pixels.flip(-1) if flipped else pixels
                    m = masks.flip(-1) if flipped and masks is not None else masks
                    if self.windows and scale != 1.0:
                        logits, feats = self._windowed(x, m, scale), None
                    else:
                        logits, feats = self.inner.predict(x, m)
                    logits = logits.float().flip(-1) if flipped else logits.float()
                    features = feats if passes == 0 else features
                    if out_size is None:
                        out_size = tuple(logits.shape[-2:])
                    elif tuple(logits.shape[-2:]) != out_size:
                        logits = F.interpolate(
                            logits, size=out_size, mode="bilinear", align_corners=False
                        )
                    total = logits if total is None else total + logits
                    passes += 1
        finally:
            self.inner.set_input_size(self.base_size)
        return total / passes, features

    def _windowed(self, pixels: torch.Tensor, masks: torch.Tensor | None, scale: float):
        """Logits at the pixels' size from overlapping windows 1/scale of their height."""
        height, width = pixels.shape[-2:]
        aspect = self.base_size[1] / self.base_size[0] if self.base_size else 1.0
        win_h = max(1, min(height, round(height / scale)))
        win_w = max(1, min(width, round(win_h * aspect)))
        total = count = None
        for top in _starts(height, win_h):
            for left in _starts(width, win_w):
                rows, cols = slice(top, top + win_h), slice(left, left + win_w)
                window_masks = masks[..., rows, cols] if masks is not None else None
                logits, _ = self.inner.predict(pixels[..., rows, cols], window_masks)
                logits = F.interpolate(
                    logits.float(), size=(win_h, win_w), mode="bilinear", align_corners=False
                )
                if total is None:
                    total = logits.new_zeros(*logits.shape[:2], height, width)
                    count = logits.new_zeros(1, 1, height, width)
                total[..., rows, cols] += logits
                count[..., rows, cols] += 1
        return total / count

    def input_size(self) -> tuple[int, int] | None:
        return self.base_size

    def describe(self) -> dict:
        return {
            **super().describe(),
            "inner": self.inner.describe(),
            "scales": list(self.scales),
            "flip": self.flip,
            **({"scales_as": "sliding windows"} if self.windows else {}),
        }


def _starts(length: int, window: int) -> list[int]:
    """Evenly spaced window offsets covering ``length``, neighbours overlapping ≥ 1/4."""
    if window >= length:
        return [0]
    count = math.ceil((length - window) / (0.75 * window)) + 1
    return [round(i * (length - window) / (count - 1)) for i in range(count)]


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
