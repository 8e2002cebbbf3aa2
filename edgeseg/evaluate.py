"""``edgeseg eval``: a checkpoint's mIoU on a dataset, per-class IoU, and overlay PNGs.

Evaluation runs at the checkpoint's ``input_size`` (the size it will be exported at), with labels
resized by nearest neighbour, so the number matches what a fixed-shape phone model sees.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from edgeseg.atomic import atomic_path
from edgeseg.checkpoint import CheckpointMeta, load_model
from edgeseg.contract import postprocess, preprocess, resize_mask
from edgeseg.data import build_dataloader, build_dataset, eval_transforms
from edgeseg.errors import DataError
from edgeseg.metrics import SegMetrics
from edgeseg.outputs import check_output_dir
from edgeseg.reference import Reference, dataset_key, image_counts
from edgeseg.train.loop import evaluate
from edgeseg.utils import MAX_WORKERS, check_range, check_size, parse_size
from edgeseg.visualize import save_comparison


@dataclass
class EvalResult:
    metrics: SegMetrics
    meta: CheckpointMeta
    data: str
    split: str
    size: tuple[int, int]
    seconds: float
    images: list[Path] = field(default_factory=list)
    report: Path | None = None


def check_eval_options(
    size: str | tuple[int, int] | None,
    batch_size: int,
    workers: int,
    visualize: int,
    limit: int | None,
) -> tuple[int, int] | None:
    """Every numeric option of ``edgeseg eval`` in its range, before the checkpoint is read
    (``--visualize -1`` used to be accepted and ignored); returns the parsed ``--size``."""
    check_range("--batch-size", batch_size, 1, whole=True)
    check_range("--workers", workers, 0, MAX_WORKERS, whole=True)
    check_range("--visualize", visualize, 0, whole=True)
    if limit is not None:
        check_range("limit", limit, 1, whole=True)
    return check_size(parse_size(size))


def evaluate_checkpoint(
    checkpoint: str | Path,
    data: str | None = None,
    split: str = "val",
    size: str | tuple[int, int] | None = None,
    batch_size: int = 4,
    workers: int = 2,
    visualize: int = 0,
    out: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> EvalResult:
    """Load ``checkpoint``, evaluate on ``data`` (default: the dataset it was trained on)."""
    asked = check_eval_options(size, batch_size, workers, visualize, limit)
    if out is not None:  # eval.json and overlays go there: refused before the model is run
        out = check_output_dir(out, "--out")
    model, meta = load_model(checkpoint)
    spec = data or meta.dataset
    if not spec:
        raise DataError(f"{checkpoint} records no dataset; pass --data SPEC")
    hw = asked or (meta.input_size[0], meta.input_size[1])
    dataset = build_dataset(spec, split, eval_transforms(hw, mean=meta.mean, std=meta.std))
    classes = list(dataset.info.classes)
    if dataset.info.labeled and len(classes) != meta.num_classes:
        raise DataError(
            f"{spec} has {len(classes)} classes but {checkpoint} predicts {meta.num_classes}; "
            "evaluate on the dataset the model was trained for"
        )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    loader = build_dataloader(dataset, batch_size, shuffle=False, workers=workers)
    started = time.perf_counter()
    metrics = evaluate(
        model,
        loader,
        meta.num_classes,
        device,
        classes=list(meta.classes),
        limit=limit,
        progress=progress,
    )
    result = EvalResult(metrics, meta, spec, split, hw, time.perf_counter() - started)
    if out is not None:
        if visualize > 0:
            result.images = _save_overlays(model, meta, spec, split, hw, visualize, out, device)
        result.report = _write_report(result, out / "eval.json", checkpoint)
    return result


@torch.no_grad()
def _save_overlays(model, meta, spec, split, hw, count, out: Path, device) -> list[Path]:
    raw = build_dataset(spec, split)
    prepared = build_dataset(spec, split, eval_transforms(hw, mean=meta.mean, std=meta.std))
    paths = []
    for i in range(min(count, len(raw))):
        image, mask = raw[i]
        tensor, _ = prepared[i]
        pred = model(tensor.unsqueeze(0).to(device)).argmax(1)[0].cpu().numpy().astype(np.uint8)
        rgb = np.asarray(image.convert("RGB").resize((hw[1], hw[0]), Image.BILINEAR))
        target = None
        if raw.info.labeled:
            target = np.asarray(
                Image.fromarray(np.asarray(mask, dtype=np.uint8)).resize(
                    (hw[1], hw[0]), Image.NEAREST
                )
            )
        name = Path(raw.image_path(i)).stem
        paths.append(
            save_comparison(
                rgb,
                target,
                pred,
                meta.palette,
                meta.classes,
                out / "overlays" / f"{i:03d}_{name}.png",
            )
        )
    return paths


def _write_report(result: EvalResult, path: Path, checkpoint) -> Path:
    report = {
        "checkpoint": str(checkpoint),
        "arch": result.meta.arch,
        "data": result.data,
        "split": result.split,
        "size": list(result.size),
        "seconds": round(result.seconds, 3),
        **result.metrics.as_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    return path


@torch.no_grad()
def checkpoint_reference(
    model: torch.nn.Module,
    meta: CheckpointMeta,
    spec: str,
    split: str,
    size: tuple[int, int],
    count: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Reference:
    """The checkpoint's own accuracy on the first ``count`` (None: all) images of ``spec``,
    measured the way ``edgeseg bench`` and the phone app measure an artifact: each picture
    through :func:`edgeseg.contract.preprocess` (float32 NCHW at ``size``, the checkpoint's
    mean/std), argmax, labels resized by nearest neighbour. An export records it, so every
    artifact can be compared with the model it came from (:mod:`edgeseg.reference`).

    Raises DataError when the data has no labels or other classes than the model."""
    dataset = build_dataset(spec, split)
    n = meta.num_classes
    if not dataset.info.labeled:
        raise DataError(f"{spec} has no labels: no reference mIoU")
    if len(dataset.info.classes) != n:
        raise DataError(
            f"{spec} has {len(dataset.info.classes)} classes, the model {n}: no reference mIoU"
        )
    total = len(dataset) if count is None else min(count, len(dataset))
    if total == 0:
        raise DataError(f"{spec} has no {split} images: no reference mIoU")
    contract = meta.float_contract(size)
    model.eval()
    counts = np.zeros((total, 2, n), dtype=np.int64)
    for i in range(total):
        image = np.asarray(dataset.load_image(i).convert("RGB"))
        logits = model(torch.from_numpy(preprocess(image, contract)))
        pred = postprocess(logits.numpy(), contract)
        counts[i] = image_counts(pred, resize_mask(dataset.load_mask(i), size), n)
        if progress:
            progress(i + 1, total)
    return Reference(tuple(meta.classes), dataset_key(spec), split, tuple(size), counts)
