"""Class weights for imbalanced data (CamVid: Road 32 % of pixels, Bicyclist 0.3 %).

Counts come from ``load_mask`` (remapped, no transform), so they describe the dataset itself,
not one random augmentation of it; 255 is never counted.
"""

from __future__ import annotations

import numpy as np
import torch

from edgeseg.data.base import IGNORE_INDEX, SegDataset
from edgeseg.errors import ConfigError, DataError
from edgeseg.utils import unknown_name_message

WEIGHT_METHODS = ("enet", "median_freq", "inverse")
ENET_C = 1.02  # ENet's constant: weights stay within [1, 1/ln(1.02) ≈ 50]


def compute_class_weights(
    dataset: SegDataset, num_classes: int, method: str = "enet"
) -> torch.Tensor:
    """Float32 [num_classes] loss weights that raise rare classes.

    - ``enet`` (Paszke et al., 2016): ``1 / ln(1.02 + p_c)``, ``p_c`` = the class's share of
      labeled pixels; bounded, so a class seen a few times cannot dominate the loss;
    - ``median_freq`` (Eigen & Fergus, 2015; SegNet): ``median(f) / f_c``, ``f_c`` = class pixels
      / labeled pixels of the images where the class appears;
    - ``inverse``: ``N / (K * n_c)`` over the ``K`` classes present (sklearn's "balanced"), so
      the pixel-weighted mean weight is 1.

    Classes with no pixel get weight 0 under ``median_freq`` and ``inverse`` (they never appear
    in a target, so the value is never used) and the maximum under ``enet``.
    """
    if method not in WEIGHT_METHODS:
        raise ConfigError(unknown_name_message("class-weight method", method, WEIGHT_METHODS))
    if not dataset.info.labeled:
        raise DataError(f"{dataset.info.spec} has no labels; class weights need a labeled dataset")
    counts, image_pixels = _count_pixels(dataset, num_classes)
    total = counts.sum()
    if total == 0:
        raise DataError(f"{dataset.info.spec} has no labeled pixel (every mask is all 255)")
    present = counts > 0
    weights = np.zeros(num_classes, dtype=np.float64)
    if method == "enet":
        weights = 1.0 / np.log(ENET_C + counts / total)
    elif method == "median_freq":
        freq = counts[present] / image_pixels[present]
        weights[present] = np.median(freq) / freq
    else:
        weights[present] = total / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def _count_pixels(dataset: SegDataset, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class: pixel count, and labeled pixels of the images that contain the class."""
    counts = np.zeros(num_classes, dtype=np.float64)
    image_pixels = np.zeros(num_classes, dtype=np.float64)
    for index in range(len(dataset)):
        histogram = np.bincount(dataset.load_mask(index).ravel(), minlength=256)
        histogram[IGNORE_INDEX] = 0
        if histogram[num_classes:].any():
            label = int(np.flatnonzero(histogram[num_classes:])[-1]) + num_classes
            raise DataError(
                f"Mask of {dataset.image_path(index)} has label id {label} but num_classes is "
                f"{num_classes}; pass the dataset's class count ({dataset.info.num_classes})"
            )
        histogram = histogram[:num_classes]
        counts += histogram
        image_pixels[histogram > 0] += histogram.sum()
    return counts, image_pixels
