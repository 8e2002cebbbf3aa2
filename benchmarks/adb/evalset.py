"""On-device accuracy: the evaluation set pushed to the phone, and scoring the masks it returns.

Why this exists: the SemiVL port lost 15 mIoU between the desktop and a Pixel 2 and nobody saw
it, because latency was measured on the phone and accuracy on the desktop. Here the phone's own
masks are scored on the host, and the same artifact is run on the host over the *same pushed
pictures*, so the difference between the two numbers is the port's loss and nothing else.

The pictures are resized on the host with the contract's resize
(:func:`edgeseg.contract.resize_image`, Pillow BILINEAR, what ``edgeseg eval`` uses) and pushed
as PNG (lossless): pictures already at ``input_size`` go through the app's resize untouched, so
the phone's masks line up pixel for pixel with the labels, which are resized to ``input_size``
by nearest neighbour exactly as ``edgeseg eval`` does. Images are taken evenly spaced over the
split (CamVid's first frames are one street), deterministic for a given dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from edgeseg.benchmarks.base import BenchError, RunResult
from edgeseg.contract import parse_meta, postprocess, preprocess, resize_image
from edgeseg.data import build_dataset
from edgeseg.errors import EdgesegError
from edgeseg.metrics import ConfusionMatrix, SegMetrics


@dataclass
class EvalSet:
    """What was pushed (``folder``/``names``, at ``input_size``) and what it is scored against."""

    spec: str
    folder: Path
    names: list[str]
    images: list[np.ndarray]  # HxWx3 uint8, exactly the pushed pixels
    labels: list[np.ndarray] | None  # HxW uint8 at input_size, 255 = ignore; None: unlabelled
    classes: tuple[str, ...]
    indices: list[int] = field(default_factory=list)  # which images of the split (gates' Δ)


def build_eval_set(
    spec: str, count: int, meta: Mapping[str, Any], folder: Path, split: str = "val"
) -> EvalSet:
    """Write ``count`` pictures of ``spec``'s ``split`` to ``folder`` as ``NNNN.png``."""
    if count < 1:
        raise BenchError(f"--eval-images must be ≥ 1 to measure on-device accuracy, got {count}")
    contract = parse_meta(meta)
    dataset = build_dataset(spec, split)
    info = dataset.info
    if info.labeled and info.num_classes != len(contract.classes):
        raise BenchError(
            f"{spec} has {info.num_classes} classes but the model predicts "
            f"{len(contract.classes)} ({', '.join(contract.classes[:4])}…); pass --data with the "
            "dataset the model was trained for"
        )
    if len(dataset) == 0:
        raise BenchError(f"{spec} has no '{split}' images to evaluate on")
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round())
    h, w = contract.size
    folder.mkdir(parents=True, exist_ok=True)
    names, images, labels = [], [], []
    for i, index in enumerate(int(k) for k in picks):
        rgb = resize_image(np.asarray(dataset.load_image(index).convert("RGB")), (h, w))
        names.append(f"{i:04d}.png")
        Image.fromarray(rgb).save(folder / names[-1])
        images.append(rgb)
        if info.labeled:
            mask = Image.fromarray(dataset.load_mask(index)).resize((w, h), Image.NEAREST)
            labels.append(np.asarray(mask, dtype=np.uint8))
    labels_ = labels if info.labeled else None
    return EvalSet(spec, folder, names, images, labels_, info.classes, [int(k) for k in picks])


def score(masks: Sequence[np.ndarray], labels: Sequence[np.ndarray], classes: Sequence[str]):
    """mIoU and per-class IoU of ``masks`` against ``labels`` (255 and out-of-range ignored)."""
    matrix = ConfusionMatrix(len(classes))
    for mask, label in zip(masks, labels):
        matrix.update(torch.from_numpy(label.astype(np.int64)), torch.from_numpy(mask))
    return matrix.compute(list(classes))


def match_masks(rows: list[dict[str, Any]], evalset: EvalSet, size: tuple[int, int]):
    """The phone's masks in the pushed order, or an error naming what is missing or misshapen."""
    by_name = {row.get("image"): row for row in rows}
    missing = [n for n in evalset.names if n not in by_name]
    if missing:
        raise BenchError(
            f"the app returned {len(rows)} masks for {len(evalset.names)} pushed images "
            f"(none for {', '.join(missing[:3])}); update the app"
        )
    masks = [by_name[n]["mask"] for n in evalset.names]
    bad = [n for n, m in zip(evalset.names, masks) if m.shape != tuple(size)]
    if bad:
        raise BenchError(
            f"the app's mask for {bad[0]} is {by_name[bad[0]]['mask'].shape}, expected "
            f"{tuple(size)} (the model's input_size); update the app"
        )
    return masks


def host_masks(artifact: Path, meta: Mapping[str, Any], images: Sequence[np.ndarray]):
    """The same artifact on the host, in its runtime (:func:`edgeseg.runtimes.load`, as bench,
    parity and teachers open it) and through the same contract."""
    from edgeseg import runtimes

    torch_threads = torch.get_num_threads()  # a torch runtime sets it process-wide
    try:
        session = runtimes.load(artifact, threads=1)  # a missing library: the pip command
        return [postprocess(session.run(preprocess(image, meta)), meta) for image in images]
    finally:
        torch.set_num_threads(torch_threads)


def agreement(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Share of pixels where two mask lists give the same class (1.0: a faithful port)."""
    same = sum(int((x == y).sum()) for x, y in zip(a, b))
    return same / max(1, sum(x.size for x in a))


def metrics_row(metrics: SegMetrics) -> tuple[float | None, dict[str, float | None]]:
    """``SegMetrics`` → (mIoU, per-class IoU) as a RunResult holds them (absent class: None)."""
    row = metrics.as_dict()
    return row["miou"], row["per_class_iou"]


def fill_accuracy(
    result: RunResult, rows: list[dict[str, Any]], evalset: EvalSet, artifact: Path, meta: dict
) -> None:
    """On-device mIoU from the phone's masks (``rows``: ``read_bench_result``'s ``masks``), and
    the host's mIoU of the same artifact on the same pictures beside it."""
    masks = match_masks(rows, evalset, parse_meta(meta).size)
    result.images = len(masks)
    result.extra["data"] = evalset.spec
    result.extra["image_indices"] = evalset.indices  # the reference is scored on these
    if evalset.labels is not None:
        result.miou, result.per_class_iou = metrics_row(
            score(masks, evalset.labels, evalset.classes)
        )
    try:
        reference = host_masks(artifact, meta, evalset.images)
    except (EdgesegError, ImportError, RuntimeError, ValueError) as exc:
        result.extra["accuracy_note"] = f"host reference not run: {exc}".splitlines()[0][:200]
        return
    result.extra["pixel_agreement"] = agreement(masks, reference)
    if evalset.labels is not None:
        host_miou, _ = metrics_row(score(reference, evalset.labels, evalset.classes))
        result.extra["host_miou"] = host_miou
        if host_miou is not None and result.miou is not None:
            result.extra["miou_delta"] = result.miou - host_miou
