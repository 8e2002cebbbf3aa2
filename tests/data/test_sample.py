"""The built-in synthetic dataset: deterministic, all classes present, train and val distinct."""

from __future__ import annotations

import numpy as np
import torch

from edgeseg.data import IGNORE_INDEX, build_dataset, train_transforms
from edgeseg.data.sample import SAMPLE_CLASSES, SampleDataset, render_sample


def test_shape_and_info() -> None:
    train, val = build_dataset("sample", "train"), build_dataset("sample", "val")
    assert (len(train), len(val)) == (240, 48)
    assert train.info.classes == SAMPLE_CLASSES and len(train.info.palette) == len(SAMPLE_CLASSES)
    assert train.info.labeled and train.info.spec == "sample"
    image, mask = train[0]
    assert image.mode == "RGB" and image.size == (160, 120) and mask.mode == "L"
    assert train.image_size(0) == (120, 160)
    assert str(train.image_path(3)) == "sample/train/0003.png"


def test_deterministic_bytes() -> None:
    first = build_dataset("sample", "val")
    image, mask = first[5]
    render_sample.cache_clear()  # regenerate from scratch, not from the cache
    again_image, again_mask = build_dataset("sample", "val")[5]
    assert image.tobytes() == again_image.tobytes()
    assert mask.tobytes() == again_mask.tobytes()


def test_items_are_copies_of_the_cache() -> None:
    ds = build_dataset("sample", "train")
    mask = ds.load_mask(0)
    mask[:] = 7
    assert (ds.load_mask(0) != 7).any()


def test_class_coverage_and_balance() -> None:
    ds = build_dataset("sample", "train")
    counts = np.zeros(256, dtype=np.int64)
    images_with = np.zeros(len(SAMPLE_CLASSES), dtype=np.int64)
    for i in range(len(ds)):
        histogram = np.bincount(ds.load_mask(i).ravel(), minlength=256)
        counts += histogram
        images_with += histogram[: len(SAMPLE_CLASSES)] > 0
    assert counts[len(SAMPLE_CLASSES) :].sum() == 0  # only class ids, no ignore
    share = counts[: len(SAMPLE_CLASSES)] / counts.sum()
    assert 0.5 < share[0] < 0.95  # background dominates but objects are not specks
    assert (share[1:] > 0.02).all()  # every shape is well represented
    assert (images_with[1:] > 40).all()


def test_train_and_val_differ() -> None:
    train, val = build_dataset("sample", "train"), build_dataset("sample", "val")
    train_bytes = {train[i][0].tobytes() for i in range(len(val))}
    assert not train_bytes & {val[i][0].tobytes() for i in range(len(val))}
    assert len(train_bytes) == len(val)  # items differ within a split too


def test_scenes_are_not_trivial() -> None:
    """Colour alone must not give the class: the hue ranges of discs and boxes overlap."""
    ds = build_dataset("sample", "train")
    hues: dict[int, list[float]] = {1: [], 2: []}
    for i in range(60):
        image = np.asarray(ds[i][0], dtype=np.float32)
        mask = ds.load_mask(i)
        for cls in hues:
            if (mask == cls).sum() > 50:
                r, g, b = image[mask == cls].mean(axis=0)
                hues[cls].append(float(np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b)))
    assert len(hues[1]) > 10 and len(hues[2]) > 10
    # some discs are greener than some boxes
    assert max(hues[1]) > min(hues[2])


def test_custom_size_and_transform() -> None:
    ds = SampleDataset("train", train_transforms((64, 64)), size=(96, 128), length=5)
    assert len(ds) == 5
    image, mask = ds[4]
    assert image.shape == (3, 64, 64) and mask.dtype == torch.int64
    assert set(mask.unique().tolist()) <= set(range(len(SAMPLE_CLASSES))) | {IGNORE_INDEX}
