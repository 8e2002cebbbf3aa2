"""mIoU through the artifact itself: dataset image → contract preprocess → runtime → mask.

Every image goes through :func:`edgeseg.contract.preprocess` (the phone app's exact steps) and
the artifact's runtime; the predicted mask is at the artifact's input size, so the *labels* are
resized to it by nearest neighbour (:func:`edgeseg.contract.resize_mask`: no class invented),
as ``edgeseg eval`` does. The model's classes are mapped onto the dataset's by name, or through
``--class-map`` (:mod:`edgeseg.distill.classmap`'s JSON format, model class → dataset class);
a model class with no dataset counterpart counts as a wrong prediction wherever it is predicted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.feed import Feed
from edgeseg.contract import Contract, overlay, postprocess, preprocess, resize_mask
from edgeseg.runtimes import Session

Report = Callable[[str, int, int], None]  # (phase, done, total)


def class_lut(feed: Feed, data_classes: tuple[str, ...], data: str, class_map: str | None):
    """uint8 LUT: model class id → dataset class id; ``len(data_classes)`` = no counterpart."""
    from edgeseg.distill.classmap import resolve_class_map
    from edgeseg.errors import DistillError

    model = feed.contract.classes
    teacher = list(model) if feed.classes_named else None
    try:
        mapping = resolve_class_map(teacher, list(data_classes), class_map, len(model))
    except DistillError as exc:
        if class_map:  # classmap.py speaks of teacher/student: here they are model/dataset
            said = str(exc).replace("teacher", "model").replace("student", "dataset")
            raise BenchError(f"--class-map {class_map}: {said}") from exc
        raise BenchError(
            f"the model predicts {len(model)} classes ({', '.join(model[:4])}, …) but {data} has "
            f"{len(data_classes)} ({', '.join(data_classes[:4])}, …); pass --class-map FILE "
            '(JSON {"model class": "dataset class" or null})'
        ) from exc
    lut = np.full(256, len(data_classes), dtype=np.uint8)
    if mapping.identity:
        lut[: len(data_classes)] = np.arange(len(data_classes))
    else:
        for target, sources in enumerate(mapping.sources):
            lut[list(sources)] = target
    return lut


def evaluate(
    session: Session,
    contract: Contract,
    lut: np.ndarray,
    dataset,
    count: int,
    overlays: tuple[int, Path | None] = (0, None),
    report: Report | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Confusion matrix ``[n + 1, n + 1]`` (last row/column: no counterpart) and overlay paths."""
    n = len(dataset.info.classes)
    matrix = np.zeros((n + 1) * (n + 1), dtype=np.int64)
    written: list[str] = []
    for i in range(count):
        image = np.asarray(dataset.load_image(i))
        pred = postprocess(session(preprocess(image, contract)), contract)
        target = resize_mask(dataset.load_mask(i), contract.size).ravel().astype(np.int64)
        keep = target < n
        matrix += np.bincount(
            (n + 1) * target[keep] + lut[pred.ravel()[keep]], minlength=(n + 1) ** 2
        )
        if i < overlays[0] and overlays[1] is not None:
            written.append(_save_overlay(image, pred, contract, overlays[1] / f"{i:03d}.png"))
        if report:
            report("mIoU", i + 1, count)
    return matrix.reshape(n + 1, n + 1), written


def metrics_from(matrix: np.ndarray, classes: tuple[str, ...]):
    """SegMetrics over the dataset's classes (the extra "no counterpart" class is dropped)."""
    import torch

    from edgeseg.metrics import ConfusionMatrix, SegMetrics

    cm = ConfusionMatrix(len(classes) + 1)
    cm.mat = torch.from_numpy(matrix)
    m = cm.compute([*classes, "(no counterpart)"])
    per_class = m.per_class_iou[: len(classes)]
    valid = [v for v in per_class if v == v]
    miou = sum(valid) / len(valid) if valid else float("nan")
    return SegMetrics(miou, m.pixel_accuracy, m.mean_accuracy, per_class, m.pixels, list(classes))


def _save_overlay(image: np.ndarray, pred: np.ndarray, contract: Contract, path: Path) -> str:
    from PIL import Image

    blended = overlay(image, pred, contract.palette, 0.5)
    with atomic_path(path) as tmp:
        Image.fromarray(blended).save(tmp, format="PNG")
    return str(path)
