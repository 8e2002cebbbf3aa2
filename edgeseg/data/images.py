"""Unlabeled images (recursive, sorted) for pseudo-label distillation: ``labeled=False``.

Each item's mask is all 255 at the image's size, so the same transforms, loaders and collation
work as for labeled data, and a loss on it is zero by construction. Both splits are all images.
An optional ``classes.txt`` names the classes a teacher will label them with.
"""

from __future__ import annotations

from edgeseg.data.base import DatasetInfo, FileDataset, Transform, require_dir
from edgeseg.data.classes import read_classes_file
from edgeseg.data.folder import IMAGE_SUFFIXES, scan_images
from edgeseg.data.registry import DataSpec, register_dataset


@register_dataset("images")
def build(spec: DataSpec, split: str, transform: Transform | None) -> FileDataset:
    root = require_dir(spec.path, "images:PATH, PATH holding images in any subfolder")
    classes_file = root / "classes.txt"
    classes, palette = read_classes_file(classes_file) if classes_file.is_file() else ((), ())
    pairs = [(path, None) for path in scan_images(root).values()]
    info = DatasetInfo(
        name="images", classes=classes, palette=palette, labeled=False, spec=str(spec)
    )
    suffixes = "/".join(s.lstrip(".") for s in IMAGE_SUFFIXES)
    return FileDataset(info, pairs, f"{root} ({suffixes}, recursive)", transform)
