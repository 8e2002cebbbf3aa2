"""edgeseg's data layer: dataset specs → datasets of (image, mask) → joint transforms → loaders.

``build_dataset("camvid:/data/camvid", "train", train_transforms((360, 480)))`` is the whole
story. Kinds: ``voc``, ``camvid``, ``folder``, ``images`` (unlabeled) and ``sample`` (synthetic,
built in); each is one module that registers itself. Labels are class ids with 255 = ignore.
"""

from edgeseg.data import camvid, folder, images, sample, voc  # noqa: F401  (register the kinds)
from edgeseg.data.base import IGNORE_INDEX, DatasetInfo, FileDataset, SegDataset
from edgeseg.data.loader import build_dataloader
from edgeseg.data.registry import (
    DataSpec,
    build_dataset,
    dataset_kinds,
    parse_data_spec,
    register_dataset,
)
from edgeseg.data.sample import SampleDataset
from edgeseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD, eval_transforms, train_transforms
from edgeseg.data.weights import compute_class_weights

__all__ = [
    "IGNORE_INDEX",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DataSpec",
    "DatasetInfo",
    "FileDataset",
    "SampleDataset",
    "SegDataset",
    "build_dataloader",
    "build_dataset",
    "compute_class_weights",
    "dataset_kinds",
    "eval_transforms",
    "parse_data_spec",
    "register_dataset",
    "train_transforms",
]
