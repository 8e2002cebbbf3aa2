"""Joint transforms: each takes and returns ``(image, mask)``, so geometry never drifts apart.

Images resize bilinear; masks resize NEAREST (a blend of two class ids is a third, wrong class)
and pad with 255 so that padding is ignored by the loss and the metrics. Randomness comes from
Python's ``random`` module, which ``build_dataloader`` seeds per item. Each random transform
keeps its last draw in ``last`` and ``Compose.geometry()`` collects them, so the same warp can be
replayed on something else — the teacher cache warps cached logits exactly like the image.

Training scales are relative to the training ``size``, not to the file: at scale 1 a crop is
exactly what ``eval_transforms(size)`` shows the model (the whole image resized to ``size``), so
train and eval see objects at the same size whatever the dataset's native resolution.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from PIL import Image, ImageEnhance

from edgeseg.data.base import IGNORE_INDEX
from edgeseg.errors import ConfigError
from edgeseg.utils import parse_size

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Size = tuple[int, int]  # (H, W)
PairTransform = Callable[[object, object], tuple[object, object]]


class Compose:
    """Apply transforms in order; a numpy mask is turned into a PIL one first."""

    def __init__(self, transforms: Iterable[PairTransform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image, mask):
        if isinstance(mask, np.ndarray):
            mask = Image.fromarray(mask.astype(np.uint8, copy=False))
        for transform in self.transforms:
            image, mask = transform(image, mask)
        return image, mask

    def __repr__(self) -> str:
        return f"Compose({', '.join(type(t).__name__ for t in self.transforms)})"

    def geometry(self) -> dict[str, int]:
        """The last call's random draws (scaled size, crop offset, flip) as plain ints."""
        merged: dict[str, int] = {}
        for transform in self.transforms:
            merged.update(getattr(transform, "last", {}))
        return merged


def _resize(image: Image.Image, mask: Image.Image, size: Size) -> tuple[Image.Image, Image.Image]:
    height, width = size
    if image.size == (width, height) and mask.size == (width, height):
        return image, mask
    return (
        image.resize((width, height), Image.BILINEAR),
        mask.resize((width, height), Image.NEAREST),
    )


class Resize:
    """Resize both to ``size`` (H, W): what the model sees at eval time."""

    def __init__(self, size: Size) -> None:
        self.size = size

    def __call__(self, image, mask):
        return _resize(image, mask, self.size)


class RandomScale:
    """Resize both to ``size * s`` with ``s ~ U(scale)``: objects seen smaller and larger."""

    def __init__(self, size: Size, scale: tuple[float, float]) -> None:
        self.size, self.scale = size, scale

    def __call__(self, image, mask):
        factor = random.uniform(*self.scale)
        target = (max(1, round(self.size[0] * factor)), max(1, round(self.size[1] * factor)))
        self.last = {"scaled_h": target[0], "scaled_w": target[1]}
        return _resize(image, mask, target)


class PadIfSmaller:
    """Pad right and bottom up to ``size``: image with ``fill``, mask with 255 (ignored)."""

    def __init__(self, size: Size, fill: int = 0, mask_fill: int = IGNORE_INDEX) -> None:
        self.size, self.fill, self.mask_fill = size, fill, mask_fill

    def __call__(self, image, mask):
        width, height = image.size
        target_w, target_h = max(width, self.size[1]), max(height, self.size[0])
        if (target_w, target_h) == (width, height):
            return image, mask
        padded = Image.new(image.mode, (target_w, target_h), (self.fill,) * len(image.getbands()))
        padded.paste(image, (0, 0))
        padded_mask = Image.new(mask.mode, (target_w, target_h), self.mask_fill)
        padded_mask.paste(mask, (0, 0))
        return padded, padded_mask


class RandomCrop:
    """Crop both at the same random place to ``size`` (inputs must be at least that large)."""

    def __init__(self, size: Size) -> None:
        self.size = size

    def __call__(self, image, mask):
        width, height = image.size
        top = random.randint(0, height - self.size[0])
        left = random.randint(0, width - self.size[1])
        self.last = {"crop_top": top, "crop_left": left}
        box = (left, top, left + self.size[1], top + self.size[0])
        return image.crop(box), mask.crop(box)


class RandomHorizontalFlip:
    """Mirror both with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image, mask):
        flipped = random.random() < self.p
        self.last = {"flip": int(flipped)}
        if flipped:
            flip = Image.Transpose.FLIP_LEFT_RIGHT
            return image.transpose(flip), mask.transpose(flip)
        return image, mask


class ColorJitter:
    """Photometric distortion of the image only (the mask, and so the geometry the teacher cache
    replays, is untouched): brightness, contrast and saturation factors drawn from
    ``[1 - strength, 1 + strength]`` and a hue shift of up to ``strength / 4`` of the colour
    wheel, each applied with probability 0.5, in a random order (as mmsegmentation's
    PhotoMetricDistortion). Why: a new drive differs from the training drives in light and colour
    more than in layout. Distilled through ``--teacher-cache`` (logits of the clean photo), the
    student learns to give the teacher's answer for the clean photo from a distorted one: the
    teacher's invariance. A teacher run live sees the distorted crop itself."""

    def __init__(self, strength: float) -> None:
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"Bad colour jitter strength {strength}: use a value in 0..1")
        self.strength = strength

    def __call__(self, image, mask):
        if self.strength <= 0:
            return image, mask
        steps = [self._brightness, self._contrast, self._saturation, self._hue]
        random.shuffle(steps)
        image = image.convert("RGB")
        for step in steps:
            if random.random() < 0.5:
                image = step(image)
        return image, mask

    def _factor(self) -> float:
        return random.uniform(1.0 - self.strength, 1.0 + self.strength)

    def _brightness(self, image: Image.Image) -> Image.Image:
        return ImageEnhance.Brightness(image).enhance(self._factor())

    def _contrast(self, image: Image.Image) -> Image.Image:
        return ImageEnhance.Contrast(image).enhance(self._factor())

    def _saturation(self, image: Image.Image) -> Image.Image:
        return ImageEnhance.Color(image).enhance(self._factor())

    def _hue(self, image: Image.Image) -> Image.Image:
        shift = round(random.uniform(-self.strength, self.strength) / 4 * 256)
        hsv = np.asarray(image.convert("HSV"), dtype=np.uint8).copy()
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + shift) % 256  # hue wraps around
        return Image.fromarray(hsv, mode="HSV").convert("RGB")


class ToTensor:
    """Image → float [3, H, W] in 0..1; mask → int64 [H, W] class ids (what the loss indexes)."""

    def __call__(self, image, mask):
        array = np.asarray(image.convert("RGB"), dtype=np.uint8)
        tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)
        return tensor, torch.from_numpy(np.array(mask, dtype=np.int64))


class ForegroundOnly:
    """Set every pixel that is not an object (a background class or ignore) to 0 — black —
    on the 0..1 tensor: the input of a foreground-specialised (FSI) teacher."""

    def __init__(self, background: Iterable[int]) -> None:
        self.background = sorted(set(background))

    def __call__(self, image, mask):
        keep = mask != IGNORE_INDEX
        for cls in self.background:
            keep &= mask != cls
        return image * keep.unsqueeze(0).to(image.dtype), mask


class Normalize:
    """``(image - mean) / std`` per channel; the mask passes through."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __call__(self, image, mask):
        return (image - self.mean) / self.std, mask


def train_transforms(
    size: Size | str,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    scale: tuple[float, float] = (0.5, 2.0),
    hflip: float = 0.5,
    foreground: Iterable[int] | None = None,
    color_jitter: float = 0.0,
) -> Compose:
    """Random scale → pad (image 0, mask 255) → random crop to ``size`` → flip → colour jitter
    (``color_jitter`` > 0) → tensors; ``foreground`` (background class ids) blacks out
    everything but the objects."""
    size = _check_size(size)
    if size is None:
        raise ConfigError("train_transforms needs a crop size (H, W), e.g. 360x480")
    if not (len(scale) == 2 and 0 < scale[0] <= scale[1]):
        raise ConfigError(f"Bad scale range {scale}: use (low, high) with 0 < low <= high")
    if not 0.0 <= hflip <= 1.0:
        raise ConfigError(f"Bad flip probability {hflip}: use a value in 0..1")
    return Compose(
        [
            RandomScale(size, (float(scale[0]), float(scale[1]))),
            PadIfSmaller(size),
            RandomCrop(size),
            RandomHorizontalFlip(hflip),
            *([ColorJitter(color_jitter)] if color_jitter else []),
            ToTensor(),
            *([] if foreground is None else [ForegroundOnly(foreground)]),
            _normalize(mean, std),
        ]
    )


def eval_transforms(
    size: Size | str | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    foreground: Iterable[int] | None = None,
) -> Compose:
    """Resize to ``size`` (None keeps each image's own size) → tensors; nothing random."""
    size = _check_size(size)
    steps: list[PairTransform] = [] if size is None else [Resize(size)]
    masking = [] if foreground is None else [ForegroundOnly(foreground)]
    return Compose([*steps, ToTensor(), *masking, _normalize(mean, std)])


def _check_size(size: Size | str | Sequence[int] | None) -> Size | None:
    if size is None or isinstance(size, str):
        return parse_size(size)
    if len(size) != 2 or min(size) <= 0:
        raise ConfigError(f"Bad size {size}: use (H, W) with positive integers")
    return int(size[0]), int(size[1])


def _normalize(mean: Sequence[float], std: Sequence[float]) -> Normalize:
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ConfigError(f"Bad mean {mean} / std {std}: use three values each, std > 0")
    return Normalize(mean, std)
