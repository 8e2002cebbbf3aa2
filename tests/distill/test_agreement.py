"""Teacher vs labels: per-class agreement of a cached teacher with the labels a run may use."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeseg.data import IGNORE_INDEX
from edgeseg.data.subsets import IndexedDataset
from edgeseg.distill.agreement import label_agreement
from edgeseg.distill.cache import TeacherCache

CLASSES = ("a", "b", "c")


class Masks:
    """The part of a dataset the agreement reads: masks at twice the cache's size."""

    info = transform = None

    def __init__(self, masks: list[np.ndarray]) -> None:
        self.masks = masks

    def __len__(self) -> int:
        return len(self.masks)

    def load_mask(self, index: int) -> np.ndarray:
        return self.masks[index].repeat(2, 0).repeat(2, 1).astype(np.uint8)


def _cache(tmp_path, logits: np.ndarray, valid: np.ndarray) -> TeacherCache:
    np.save(tmp_path / "logits_0000.npy", logits.astype(np.float16))
    np.save(tmp_path / "valid_0000.npy", valid)
    (tmp_path / "index.json").write_text(json.dumps({"shards": 1, "shard": 256}))
    return TeacherCache(tmp_path, logits.shape[-2:])


def _one_hot(pred: np.ndarray, confidence: float = 8.0) -> np.ndarray:
    return np.eye(len(CLASSES), dtype=np.float32)[pred].transpose(2, 0, 1) * confidence


def test_agreement_counts_by_hand(tmp_path) -> None:
    """Image 0: label a a b b, teacher a b b b with its last pixel unplaceable (a miss).
    Image 1 has no labelled pixel and is not counted; class c is in neither: None."""
    label = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1]])
    logits = np.stack([_one_hot(pred), _one_hot(pred)])
    valid = np.ones((2, 1, 4), dtype=bool)
    valid[0, 0, 3] = False
    cache = _cache(tmp_path, logits, valid)
    masks = Masks([label, np.full((1, 4), IGNORE_INDEX)])
    result = label_agreement(cache, masks, CLASSES, progress=False)
    assert result is not None and result.images == 1
    assert result.pixels == (2, 2, 0)
    # a: hit 1, labelled 2, predicted 1 → 1/2; b: hit 1 (one miss by the map), labelled 2,
    # predicted 2 (the unplaceable pixel is no prediction) → 1/3
    assert result.iou[0] == pytest.approx(1 / 2) and result.iou[1] == pytest.approx(1 / 3)
    assert result.iou[2] is None
    confident = np.exp(8) / (np.exp(8) + 2)
    assert result.probability[0] == pytest.approx((confident + (1 - confident) / 2) / 2, rel=1e-3)
    assert result.miou == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert result.weakest() == [1, 0]
    # a's wrong pixel went to b; b's to no class (the unplaceable pixel); c has no pixel
    assert result.confused_with == (("b", 0.5), ("unplaceable", 0.5), None)
    assert result.summary() == (
        "teacher vs labels at 1x4 (1 labelled image): mIoU 41.7; weakest "
        f"b 33.3 (p {result.probability[1]:.2f}, 50% as unplaceable), "
        f"a 50.0 (p {result.probability[0]:.2f}, 50% as b)"
    )


def test_only_the_labels_the_run_may_use_are_read(tmp_path) -> None:
    """Under ``--labels`` the view's ``source_index`` picks the cache item: image 1 only."""
    logits = np.stack([_one_hot(np.array([[0, 0, 0, 0]])), _one_hot(np.array([[2, 2, 2, 2]]))])
    cache = _cache(tmp_path, logits, np.ones((2, 1, 4), dtype=bool))
    masks = Masks([np.array([[1, 1, 1, 1]]), np.array([[2, 2, 2, 2]])])
    result = label_agreement(cache, IndexedDataset(masks, [1]), CLASSES, progress=False)
    assert result is not None and result.images == 1
    assert result.iou == (None, None, 1.0) and result.pixels == (0, 0, 4)
    assert (
        label_agreement(cache, Masks([np.full((1, 4), IGNORE_INDEX)] * 2), CLASSES, progress=False)
        is None
    )
