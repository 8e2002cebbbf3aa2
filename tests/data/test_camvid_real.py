"""The real CamVid copy in ../shared (skipped with a reason where it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from edgeseg.data import build_dataset, compute_class_weights, eval_transforms
from edgeseg.data.camvid import CAMVID_CLASSES

ALLOWED = set(range(11)) | {255}


@pytest.fixture(scope="module")
def camvid_train(camvid_dir: Path):
    return build_dataset(f"camvid:{camvid_dir}", "train")


def test_split_sizes_and_resolution(camvid_dir: Path, camvid_train) -> None:
    val = build_dataset(f"camvid:{camvid_dir}", "val")
    assert (len(camvid_train), len(val)) == (367, 101)
    for ds in (camvid_train, val):
        assert {ds.image_size(i) for i in range(len(ds))} == {(360, 480)}
        assert ds.info.classes == CAMVID_CLASSES


def test_masks_hold_classes_and_ignore_only(camvid_dir: Path, camvid_train) -> None:
    val = build_dataset(f"camvid:{camvid_dir}", "val")
    seen: set[int] = set()
    for ds in (camvid_train, val):
        for i in range(0, len(ds), 10):
            values = set(np.unique(ds.load_mask(i)).tolist())
            assert values <= ALLOWED, (ds.image_path(i), values - ALLOWED)
            seen |= values
    assert 255 in seen and 3 in seen  # void was remapped; Road is everywhere


def test_eval_item(camvid_train, camvid_dir: Path) -> None:
    ds = build_dataset(f"camvid:{camvid_dir}", "val", eval_transforms((180, 240)))
    image, mask = ds[0]
    assert image.shape == (3, 180, 240) and image.dtype == torch.float32
    assert mask.shape == (180, 240) and mask.dtype == torch.int64
    assert set(mask.unique().tolist()) <= ALLOWED


def test_class_weights_favour_rare_classes(camvid_train) -> None:
    for method in ("enet", "median_freq", "inverse"):
        weights = compute_class_weights(camvid_train, 11, method=method)
        assert weights.shape == (11,) and torch.isfinite(weights).all() and (weights > 0).all()
        road, bicyclist = CAMVID_CLASSES.index("Road"), CAMVID_CLASSES.index("Bicyclist")
        assert weights[bicyclist] > 5 * weights[road], method
        assert int(weights.argmin()) == road, method  # Road is the most common class
