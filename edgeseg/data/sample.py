"""The built-in ``sample`` dataset: synthetic scenes drawn at run time, nothing read from disk.

A demo and CI need data that is always there (no download, no licence, no network) and that a
~1M-parameter model learns in a couple of minutes on two CPU cores — yet it must not fall to one
trick, or a broken model would look fine:

- the class is the *shape*: disc, box, triangle, ring. Each shape has a colour family (a hue
  range), but the ranges touch and 15 % of the objects take any hue, so colour is a strong hint,
  not the answer; disc vs ring needs the hole, box vs triangle the corners;
- backgrounds are smooth colour fields with stripes and noise; thin background-class lines in
  saturated colours run under and over the objects, so "saturated means object" fails and
  objects get cut; objects overlap and hide each other;
- item ``i`` of a split comes from ``numpy.random.default_rng((seed, split, i))``: the same bytes
  on every run, and train and val never share a scene.

Items are cached in memory (LRU), so epochs after the first cost no drawing. Calibration:
LR-ASPP MobileNetV3-Small (1.08M parameters, from scratch, AdamW 3e-3, ENet class weights,
batch 8) reaches ~0.64 val mIoU after 25 epochs, ~2 minutes on two CPU threads; its errors are
mostly shape confusions, so the classes really are told apart by shape.
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from edgeseg.data.base import DatasetInfo, SegDataset, Transform
from edgeseg.data.registry import DataSpec, register_dataset
from edgeseg.errors import ConfigError, DataError

SAMPLE_CLASSES = ("background", "disc", "box", "triangle", "ring")
SAMPLE_PALETTE = ((0, 0, 0), (230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 190, 0))
SAMPLE_SIZE = (120, 160)  # (H, W)
SAMPLE_LENGTHS = {"train": 240, "val": 48}
CACHE_ITEMS = 1024  # 120x160 items are ~77 kB: the whole default dataset fits many times over

_SEED = 20240611
_SPLIT_IDS = {"train": 0, "val": 1}
_HUE_CENTRE = {1: 0.0, 2: 0.25, 3: 0.5, 4: 0.75}  # red-ish discs, green-ish boxes, …
_HUE_SPREAD = 0.13  # ± around the centre: neighbouring families touch
_ANY_HUE = 0.15  # share of objects whose colour says nothing about their class
_RADIUS = (12.0, 30.0)  # object size range, in pixels at 120x160
_BG_SATURATION = (0.1, 0.45)  # background colour kept muted relative to objects
_NOISE = 6.0  # sensor-like Gaussian noise, in grey levels


class SampleDataset(SegDataset):
    """``length`` items of ``size`` (H, W) for ``split``; defaults: 240 train / 48 val, 120x160."""

    def __init__(
        self,
        split: str = "train",
        transform: Transform | None = None,
        size: tuple[int, int] = SAMPLE_SIZE,
        length: int | None = None,
    ) -> None:
        if split not in _SPLIT_IDS:
            raise ConfigError(f"Unknown split '{split}' for the sample dataset; use train or val")
        if min(size) < 16:
            raise ConfigError(f"Sample size {size} is too small; use at least 16x16")
        info = DatasetInfo(
            name="sample",
            classes=SAMPLE_CLASSES,
            palette=SAMPLE_PALETTE,
            labeled=True,
            spec="sample",
        )
        super().__init__(info, transform)
        self.split = split
        self.size = (int(size[0]), int(size[1]))
        self.length = SAMPLE_LENGTHS[split] if length is None else length

    def __len__(self) -> int:
        return self.length

    def _item(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not -self.length <= index < self.length:
            raise IndexError(f"sample index {index} out of range for {self.length} items")
        return render_sample(_SPLIT_IDS[self.split], index % self.length, *self.size)

    def image_path(self, index: int) -> Path:
        """A name, not a file: ``sample/<split>/<index>.png`` (nothing is written to disk)."""
        return Path("sample") / self.split / f"{index % self.length:04d}.png"

    def image_size(self, index: int) -> tuple[int, int]:
        return self.size

    def load_image(self, index: int) -> Image.Image:
        return Image.fromarray(self._item(index)[0].copy())

    def load_mask(self, index: int) -> np.ndarray:
        return self._item(index)[1].copy()


@register_dataset("sample", needs_path=False)
def build(spec: DataSpec, split: str, transform: Transform | None) -> SampleDataset:
    if spec.path is not None:
        raise DataError(f"Dataset 'sample' takes no path (got '{spec}'); use just: sample")
    return SampleDataset(split, transform)


@functools.lru_cache(maxsize=CACHE_ITEMS)
def render_sample(
    split_id: int, index: int, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 [H,W,3], mask uint8 [H,W]) of one scene; read-only because they are cached."""
    rng = np.random.default_rng((_SEED, split_id, index))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = min(height, width) / 120.0
    image = _background(rng, yy, xx, scale)
    mask = np.zeros((height, width), dtype=np.uint8)
    lines_on_top = rng.random(int(rng.integers(1, 4))) < 0.5
    for _ in range(int((~lines_on_top).sum())):
        image[_line(rng, yy, xx, scale)] = _colour(rng, hue=rng.random())
    for _ in range(int(rng.integers(2, 6))):
        cls = int(rng.integers(1, len(SAMPLE_CLASSES)))
        region, shading = _object(rng, cls, yy, xx, scale)
        image[region] = _colour(rng, _object_hue(rng, cls)) * shading[region][:, None]
        mask[region] = cls
    for _ in range(int(lines_on_top.sum())):
        line = _line(rng, yy, xx, scale)
        image[line] = _colour(rng, hue=rng.random())
        mask[line] = 0
    image += rng.normal(0.0, _NOISE, image.shape).astype(np.float32)
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    pixels.setflags(write=False)
    mask.setflags(write=False)
    return pixels, mask


def _background(
    rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, scale: float
) -> np.ndarray:
    """A smooth, muted colour field (a 3x4 grid upsampled) plus stripes of random period."""
    height, width = yy.shape
    coarse = rng.uniform(30, 220, size=(3, 4, 3))
    grey = coarse.mean(axis=2, keepdims=True)
    coarse = grey + (coarse - grey) * rng.uniform(*_BG_SATURATION)
    field = Image.fromarray(coarse.astype(np.uint8)).resize((width, height), Image.BILINEAR)
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 30) * scale
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) * (2 * np.pi / period) + rng.uniform(0, 6.3)
    stripes = rng.uniform(0, 20) * np.sin(phase)
    return np.asarray(field, dtype=np.float32) + stripes[..., None]


def _colour(rng: np.random.Generator, hue: float) -> np.ndarray:
    saturation, value = rng.uniform(0.5, 1.0), rng.uniform(0.55, 1.0)
    return np.array(colorsys.hsv_to_rgb(hue, saturation, value), dtype=np.float32) * 255


def _object_hue(rng: np.random.Generator, cls: int) -> float:
    """Hue near the class's family centre, or any hue for ``_ANY_HUE`` of the objects."""
    if rng.random() < _ANY_HUE:
        return float(rng.random())
    return float(_HUE_CENTRE[cls] + rng.uniform(-1, 1) * _HUE_SPREAD) % 1.0


def _line(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, scale: float) -> np.ndarray:
    """A thin straight segment across the image (background class whatever it covers)."""
    height, width = yy.shape
    x0, x1 = rng.uniform(0, width, 2)
    y0, y1 = rng.uniform(0, height, 2)
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy + 1e-6), 0, 1)
    return np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy)) <= rng.uniform(1.0, 2.5) * scale


def _object(
    rng: np.random.Generator, cls: int, yy: np.ndarray, xx: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """(region, shading) of one shape of class ``cls`` at a random place, size and angle.

    Centres may lie near the border, so shapes are also seen cut by the frame; shading is a
    linear light gradient across the shape, so no object is one flat colour.
    """
    height, width = yy.shape
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    radius = rng.uniform(*_RADIUS) * scale
    angle = rng.uniform(0, 2 * np.pi)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = (yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle)
    region = _SHAPES[cls](rng, u, v, radius)
    shading = 1.0 + rng.uniform(-0.35, 0.35) * np.clip(u / radius, -1, 1)
    return region, shading


def _disc(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    return (u / radius) ** 2 + (v / (radius * rng.uniform(0.8, 1.0))) ** 2 <= 1.0


def _ring(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    squash, hole = rng.uniform(0.8, 1.0), rng.uniform(0.45, 0.65)
    distance = (u / radius) ** 2 + (v / (radius * squash)) ** 2
    return (distance <= 1.0) & (distance > hole**2)


def _box(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    half_u, half_v = rng.uniform(0.6, 1.0, 2) * radius
    return (np.abs(u) <= half_u) & (np.abs(v) <= half_v)


def _triangle(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    """A jittered equilateral triangle: inside = on the same side of all three edges."""
    angles = np.arange(3) * (2 * np.pi / 3) + rng.uniform(-0.2, 0.2, 3)
    radii = radius * rng.uniform(0.9, 1.25, 3)
    pu, pv = radii * np.cos(angles), radii * np.sin(angles)
    sides = [
        (pu[(i + 1) % 3] - pu[i]) * (v - pv[i]) - (pv[(i + 1) % 3] - pv[i]) * (u - pu[i])
        for i in range(3)
    ]
    return ((sides[0] >= 0) & (sides[1] >= 0) & (sides[2] >= 0)) | (
        (sides[0] <= 0) & (sides[1] <= 0) & (sides[2] <= 0)
    )


_SHAPES: dict[int, Callable[..., np.ndarray]] = {1: _disc, 2: _box, 3: _triangle, 4: _ring}
