"""PASCAL VOC 2012 segmentation: ``ImageSets/Segmentation/{split}.txt`` lists image stems.

Masks are palette PNGs whose indices are the labels (255 = object border), so they are read as
indices, never as colours.
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.data.base import DatasetInfo, FileDataset, Transform, read_list, require_dir
from edgeseg.data.classes import voc_colormap
from edgeseg.data.registry import DataSpec, register_dataset
from edgeseg.errors import DataError

VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
VOC_PALETTE = voc_colormap(len(VOC_CLASSES))
_FORM = "voc:PATH, PATH = VOC2012/ or a folder holding VOC2012/ or VOCdevkit/VOC2012/"


def find_voc_root(path: Path) -> Path:
    """The folder with ``JPEGImages/``: PATH itself, PATH/VOC2012 or PATH/VOCdevkit/VOC2012."""
    for candidate in (path, path / "VOC2012", path / "VOCdevkit" / "VOC2012"):
        if (candidate / "JPEGImages").is_dir():
            return candidate
    raise DataError(
        f"No VOC2012 folder in {path}: expected JPEGImages/ there, in VOC2012/ or in "
        "VOCdevkit/VOC2012/; pass the VOC2012 folder"
    )


@register_dataset("voc")
def build(spec: DataSpec, split: str, transform: Transform | None) -> FileDataset:
    root = find_voc_root(require_dir(spec.path, _FORM))
    list_file = root / "ImageSets" / "Segmentation" / f"{split}.txt"
    stems = [line.split()[0] for line in read_list(list_file, f"expected {_FORM}")]
    pairs = [
        (root / "JPEGImages" / f"{s}.jpg", root / "SegmentationClass" / f"{s}.png") for s in stems
    ]
    info = DatasetInfo(
        name="voc", classes=VOC_CLASSES, palette=VOC_PALETTE, labeled=True, spec=str(spec)
    )
    return FileDataset(info, pairs, str(list_file), transform)
