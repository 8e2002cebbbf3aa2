"""Joint transforms keep image and mask aligned; masks stay class ids; padding is 255."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image

from edgeseg.data import (
    IGNORE_INDEX,
    IMAGENET_MEAN,
    IMAGENET_STD,
    eval_transforms,
    train_transforms,
)
from edgeseg.data.transforms import ColorJitter, PadIfSmaller, RandomCrop
from edgeseg.errors import ConfigError

MEAN = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(3, 1, 1)


def coded_pair(height: int = 60, width: int = 80) -> tuple[Image.Image, Image.Image]:
    """Blocks of 6 classes; the image's red channel is ``40 * class + 20``, so any pixel of the
    transformed image says which class the mask must have there."""
    ys, xs = np.mgrid[0:height, 0:width]
    mask = ((ys // 20) * 3 + (xs * 3 // width)).astype(np.uint8) % 6
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[..., 0] = mask * 40 + 20
    image[..., 2] = (xs * 255 // width).astype(np.uint8)  # left-right ramp: detects flips
    return Image.fromarray(image), Image.fromarray(mask)


def denormalize(image: torch.Tensor) -> np.ndarray:
    return ((image * STD + MEAN) * 255).round().clamp(0, 255).byte().numpy()


@pytest.mark.parametrize("seed", range(12))
def test_train_geometry_stays_aligned(seed: int) -> None:
    random.seed(seed)
    image, mask = train_transforms((48, 64), scale=(0.5, 2.0), hflip=0.5)(*coded_pair())
    assert image.shape == (3, 48, 64) and image.dtype == torch.float32
    assert mask.shape == (48, 64) and mask.dtype == torch.int64
    pixels, labels = denormalize(image), mask.numpy()
    padded = labels == IGNORE_INDEX
    assert (pixels[:, padded] == 0).all()  # padding: image 0 where the mask is 255
    decoded = np.rint((pixels[0].astype(float) - 20) / 40)
    inside = ~padded
    agree = (decoded[inside] == labels[inside]).mean() if inside.any() else 1.0
    assert agree > 0.9  # bilinear blends only along block borders
    assert set(np.unique(labels[inside]).tolist()) <= set(range(6))


def test_flip_mirrors_both() -> None:
    image, mask = coded_pair()
    plain = train_transforms((60, 80), scale=(1.0, 1.0), hflip=0.0)(image, mask)
    flipped = train_transforms((60, 80), scale=(1.0, 1.0), hflip=1.0)(image, mask)
    torch.testing.assert_close(flipped[0], plain[0].flip(-1))
    assert torch.equal(flipped[1], plain[1].flip(-1))
    assert torch.equal(plain[1], torch.from_numpy(np.asarray(mask, dtype=np.int64)))


def test_small_scale_pads_with_ignore() -> None:
    image, mask = train_transforms((60, 80), scale=(0.5, 0.5), hflip=0.0)(*coded_pair())
    labels = mask.numpy()
    assert (labels[30:, :] == IGNORE_INDEX).all() and (labels[:, 40:] == IGNORE_INDEX).all()
    assert (labels[:30, :40] != IGNORE_INDEX).all()
    assert (denormalize(image)[:, 30:, :] == 0).all()


def test_pad_and_crop_direct() -> None:
    image, mask = coded_pair(10, 12)
    padded, padded_mask = PadIfSmaller((16, 20))(image, mask)
    assert padded.size == padded_mask.size == (20, 16)
    assert np.asarray(padded_mask)[10:].max() == 255 and np.asarray(padded)[10:].max() == 0
    random.seed(0)
    crop, crop_mask = RandomCrop((8, 8))(padded, padded_mask)
    assert crop.size == crop_mask.size == (8, 8)


def test_eval_resize_keeps_label_set() -> None:
    image, mask = coded_pair()
    rng = np.random.default_rng(0)
    noisy = np.asarray(mask).copy()
    noisy[rng.random(noisy.shape) < 0.05] = IGNORE_INDEX
    out_image, out_mask = eval_transforms((45, 61))(image, noisy)  # numpy mask accepted too
    assert out_image.shape == (3, 45, 61) and out_mask.shape == (45, 61)
    assert set(out_mask.unique().tolist()) <= set(np.unique(noisy).tolist())


def test_eval_none_keeps_size_and_normalises() -> None:
    image, mask = coded_pair()
    out_image, out_mask = eval_transforms(None)(image, mask)
    assert out_image.shape == (3, 60, 80)
    expected = (torch.from_numpy(np.array(image)).permute(2, 0, 1) / 255 - MEAN) / STD
    torch.testing.assert_close(out_image, expected)
    assert torch.equal(out_mask, torch.from_numpy(np.asarray(mask, dtype=np.int64)))


def test_size_strings() -> None:
    image, _ = eval_transforms("30x40")(*coded_pair())
    assert image.shape == (3, 30, 40)
    image, _ = train_transforms("32")(*coded_pair())
    assert image.shape == (3, 32, 32)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": None},
        {"size": (0, 4)},
        {"size": "big"},
        {"size": (8, 8), "scale": (2.0, 1.0)},
        {"size": (8, 8), "hflip": 1.5},
        {"size": (8, 8), "std": (1.0, 0.0, 1.0)},
        {"size": (8, 8), "color_jitter": 1.5},
        {"size": (8, 8), "color_jitter": -0.1},
    ],
)
def test_bad_options(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        train_transforms(**kwargs)


def test_colour_jitter_changes_colours_only_and_repeats_under_a_seed() -> None:
    """The mask, the geometry the teacher cache replays and the image's layout stay; the colours
    move (by up to the strength), differently per draw, the same again under the same seed."""
    image, mask = coded_pair()

    def draw(seed: int, strength: float = 0.4):
        random.seed(seed)
        tf = train_transforms((60, 80), scale=(1.0, 1.0), hflip=1.0, color_jitter=strength)
        out = tf(image, mask)
        return out, tf.geometry()

    (plain, plain_mask), plain_geo = draw(0, strength=0.0)
    draws = [draw(seed) for seed in range(8)]
    for (jittered, jittered_mask), geometry in draws:
        assert torch.equal(jittered_mask, plain_mask) and geometry == plain_geo
        assert np.abs(denormalize(jittered).astype(int) - denormalize(plain)).max() < 200
    changed = [not torch.equal(j, plain) for (j, _), _ in draws]
    assert sum(changed) >= 6  # each step has a 1/2 chance: all four skipped is 1 in 16
    assert len({denormalize(j).tobytes() for (j, _), _ in draws}) >= 6
    assert torch.equal(draw(3)[0][0], draws[3][0][0])  # a seed repeats its draw
    assert "ColorJitter" not in repr(train_transforms((60, 80)))  # off unless asked for


def test_colour_jitter_keeps_grey_grey_under_hue_and_saturation() -> None:
    """Hue and saturation act on colour only: a grey image stays grey (every channel equal)."""
    grey = Image.fromarray(np.full((20, 30, 3), 128, dtype=np.uint8))
    jitter = ColorJitter(1.0)
    for seed in range(6):
        random.seed(seed)
        out = np.asarray(jitter._saturation(jitter._hue(grey)))
        assert (out == out[..., :1]).all()
