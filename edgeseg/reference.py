"""The reference mIoU an artifact's sidecar carries: its checkpoint's own accuracy.

Why it exists: the question users ask of a port — did it keep its accuracy? — needs the number
the port is compared *to*, measured the same way. ``edgeseg export`` runs the fp32 checkpoint,
eagerly, over its evaluation data (the images parity uses) through exactly the pixel steps the
bench and the phone app use (:mod:`edgeseg.contract`), and records the result in the sidecar's
``reference`` key; ``edgeseg bench`` reads it back and prints Δ mIoU and the ratio per
artifact × device, and its gates (``--max-miou-drop``, ``--min-miou-ratio``) judge them.

The host bench scores the *first* N images and the phone app an evenly spread subset, so one
mIoU over all images would compare different pictures. The reference therefore keeps, per
image and class, the intersection and union pixel counts (``image_counts``): IoU over any subset
of the reference images is Σ intersection / Σ union over that subset, exactly what a confusion
matrix over those images gives, so :meth:`Reference.score` is exact for whichever images a row
was measured on.

Sidecar value (``reference``), written by :meth:`Reference.as_dict`::

    {"miou": 0.61,                      # over all `images` images (0..1; null: no class seen)
     "per_class_iou": {"class": 0.7 | null},
     "dataset": "camvid:/abs/path",     # the spec, its path made absolute (see dataset_key)
     "split": "val", "size": [H, W],   # the artifact's input size, where it was measured
     "images": 101,                     # the first `images` images of dataset/split
     "image_counts": "base64…"}         # uint32 little-endian [images, 2, classes]:
                                        # per image, per class: intersection, union (pixels)

Layer: core (numpy only), so the export writes it and the bench reads it with no torch import.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeseg.errors import EdgesegError


class ReferenceError(EdgesegError):
    """A sidecar's ``reference`` that is not what :meth:`Reference.as_dict` writes."""


@dataclass(frozen=True)
class Reference:
    """The checkpoint's per-image intersection/union counts on its export's evaluation data."""

    classes: tuple[str, ...]
    dataset: str
    split: str
    size: tuple[int, int]
    counts: np.ndarray  # [images, 2, classes] int64: intersection, union

    @property
    def images(self) -> int:
        return int(self.counts.shape[0])

    def score(self, indices: Sequence[int] | None = None) -> tuple[float | None, dict]:
        """(mIoU, per-class IoU) over the reference images ``indices`` (all when None); a class
        with no pixel in truth or prediction there is None and left out of the mean (the rule
        of :class:`edgeseg.metrics.ConfusionMatrix`)."""
        picked = self.counts if indices is None else self.counts[list(indices)]
        inter, union = picked.sum(axis=0)
        ious = [float(i) / float(u) if u > 0 else None for i, u in zip(inter, union)]
        valid = [v for v in ious if v is not None]
        miou = sum(valid) / len(valid) if valid else None
        return miou, dict(zip(self.classes, ious))

    def covers(self, dataset: str | None, split: str) -> str:
        """Why rows measured on ``dataset``/``split`` cannot use this reference ("" when they
        can); the dataset is compared as :func:`dataset_key` writes it."""
        if dataset is None:
            return "no --data: mIoU not measured"
        if dataset_key(dataset) != self.dataset or split != self.split:
            return f"the reference is on {self.dataset} {self.split}, not {dataset} {split}"
        return ""

    def as_dict(self) -> dict[str, Any]:
        miou, per_class = self.score()
        data = np.ascontiguousarray(self.counts, dtype="<u4").tobytes()
        return {
            "miou": miou,
            "per_class_iou": per_class,
            "dataset": self.dataset,
            "split": self.split,
            "size": list(self.size),
            "images": self.images,
            "image_counts": base64.b64encode(data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, value: Any, source: str = "sidecar") -> Reference:
        """Read a sidecar's ``reference`` back; anything malformed is one ReferenceError."""
        try:
            classes = tuple(str(c) for c in value["per_class_iou"])
            h, w = (int(v) for v in value["size"])
            images = int(value["images"])
            raw = base64.b64decode(value["image_counts"], validate=True)
            counts = np.frombuffer(raw, dtype="<u4").astype(np.int64)
            counts = counts.reshape(images, 2, len(classes))
            return cls(classes, str(value["dataset"]), str(value["split"]), (h, w), counts)
        except (KeyError, TypeError, ValueError) as exc:
            raise ReferenceError(
                f"{source}: its 'reference' is malformed ({exc}); re-export the model"
            ) from exc


def image_counts(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """``[2, classes]`` intersection and union pixel counts of one image; target values
    ≥ ``num_classes`` (255: ignore) are left out, as in every edgeseg mIoU."""
    keep = target < num_classes
    t = target[keep].astype(np.int64)
    p = pred[keep].astype(np.int64)
    inter = np.bincount(t[t == p], minlength=num_classes)[:num_classes]
    union = (
        np.bincount(t, minlength=num_classes)[:num_classes]
        + np.bincount(p, minlength=num_classes)[:num_classes]
        - inter
    )
    return np.stack([inter, union])


def dataset_key(spec: str) -> str:
    """A dataset spec as references record it: ``KIND:PATH`` with the path absolute, so the
    same folder named from another working directory still matches."""
    kind, sep, path = str(spec).partition(":")
    if not sep or not path.strip():
        return kind.strip().lower()
    return f"{kind.strip().lower()}:{Path(path.strip()).expanduser().resolve()}"


def read_reference(meta: Mapping[str, Any], source: str = "sidecar") -> Reference | None:
    """The sidecar's reference, or None when it has none (a foreign model, unlabelled data)."""
    value = meta.get("reference") if isinstance(meta, Mapping) else None
    return None if value is None else Reference.from_dict(value, source)
