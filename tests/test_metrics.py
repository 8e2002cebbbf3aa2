"""mIoU from the confusion matrix must agree with torchmetrics' MulticlassJaccardIndex."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

from edgeseg.metrics import ConfusionMatrix


def reference(target: torch.Tensor, pred: torch.Tensor, n: int) -> tuple[float, torch.Tensor]:
    macro = MulticlassJaccardIndex(num_classes=n, ignore_index=255, average="macro")
    per = MulticlassJaccardIndex(num_classes=n, ignore_index=255, average="none")
    return float(macro(pred, target)), per(pred, target)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_masks_match_torchmetrics(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    n = 7
    target = torch.randint(0, n, (4, 33, 47), generator=g)
    target[torch.rand(target.shape, generator=g) < 0.1] = 255
    pred = torch.randint(0, n - 1, (4, 33, 47), generator=g)  # class n-1 never predicted
    cm = ConfusionMatrix(n)
    for t, p in zip(target, pred):  # accumulation over batches == one shot
        cm.update(t, p)
    got = cm.compute()
    want, want_per = reference(target, pred, n)
    assert got.miou == pytest.approx(want, abs=1e-6)
    got_per = torch.tensor(got.per_class_iou, dtype=torch.float64)
    assert torch.allclose(got_per, want_per.double(), atol=1e-6)
    acc = MulticlassAccuracy(num_classes=n, ignore_index=255, average="micro")(pred, target)
    assert got.pixel_accuracy == pytest.approx(float(acc), abs=1e-6)


def test_absent_class_is_nan_and_left_out_of_mean() -> None:
    target = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    got = ConfusionMatrix(4).compute()
    assert math.isnan(got.miou)
    cm = ConfusionMatrix(4)
    cm.update(target, pred)
    got = cm.compute(["a", "b", "c", "d"])
    assert math.isnan(got.per_class_iou[2]) and math.isnan(got.per_class_iou[3])
    assert got.miou == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert got.miou == pytest.approx(reference(target, pred, 4)[0])
    assert got.as_dict()["per_class_iou"]["c"] is None


def test_class_only_predicted_counts_as_zero() -> None:
    cm = ConfusionMatrix(3)
    cm.update(torch.tensor([0, 0, 0]), torch.tensor([0, 0, 2]))
    got = cm.compute()
    assert got.per_class_iou[2] == 0.0
    assert got.miou == pytest.approx((2 / 3 + 0) / 2)


def test_ignore_label_dropped() -> None:
    cm = ConfusionMatrix(2)
    cm.update(torch.tensor([255, 255, 1]), torch.tensor([0, 1, 1]))
    assert cm.compute().pixels == 1 and cm.compute().miou == 1.0


def test_real_camvid_masks_match_torchmetrics(camvid_dir) -> None:
    """A real label map against a perturbed copy (shifted by 7 px), void mapped to 255."""
    pairs = (camvid_dir / "val.txt").read_text().split("\n")[:3]
    cm = ConfusionMatrix(11)
    targets, preds = [], []
    for line in pairs:
        mask = np.asarray(Image.open(camvid_dir / line.split()[1])).astype(np.int64)
        mask[mask == 11] = 255
        target = torch.from_numpy(mask)
        pred = torch.roll(target, shifts=7, dims=1).clamp(max=10)
        cm.update(target, pred)
        targets.append(target)
        preds.append(pred)
    want, _ = reference(torch.stack(targets), torch.stack(preds), 11)
    assert cm.compute().miou == pytest.approx(want, abs=1e-6)
    assert 0.3 < want < 1.0
