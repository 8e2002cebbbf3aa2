"""build_dataloader determinism and compute_class_weights on known counts."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

from edgeseg.data import (
    IGNORE_INDEX,
    build_dataloader,
    build_dataset,
    compute_class_weights,
    eval_transforms,
    train_transforms,
)
from edgeseg.data.sample import SampleDataset
from edgeseg.errors import ConfigError, DataError

from .conftest import make_folder, make_images, save


@pytest.fixture(scope="module")
def augmented() -> SampleDataset:
    return SampleDataset("train", train_transforms((48, 64), scale=(0.5, 2.0)), length=16)


def first_batch(dataset, workers: int, seed: int, shuffle: bool = True):
    return next(iter(build_dataloader(dataset, 4, shuffle=shuffle, workers=workers, seed=seed)))


def test_same_seed_same_batch(augmented: SampleDataset) -> None:
    images, masks = first_batch(augmented, workers=0, seed=3)
    assert images.shape == (4, 3, 48, 64) and masks.shape == (4, 48, 64)
    assert masks.dtype == torch.int64
    torch.manual_seed(123)  # the global RNG does not matter
    random.seed(123)
    again = first_batch(augmented, workers=0, seed=3)
    assert torch.equal(images, again[0]) and torch.equal(masks, again[1])
    other = first_batch(augmented, workers=0, seed=4)
    assert not torch.equal(images, other[0])


def test_workers_do_not_change_batches(augmented: SampleDataset) -> None:
    in_process = first_batch(augmented, workers=0, seed=7)
    in_workers = first_batch(augmented, workers=2, seed=7)
    assert torch.equal(in_process[0], in_workers[0]) and torch.equal(in_process[1], in_workers[1])


def test_epochs_differ_but_repeat(augmented: SampleDataset) -> None:
    def two_epochs():
        loader = build_dataloader(augmented, 4, shuffle=True, seed=11)
        return [next(iter(loader))[0] for _ in range(2)]

    first, second = two_epochs()
    assert not torch.equal(first, second)
    again = two_epochs()
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])


def test_global_rng_untouched(augmented: SampleDataset) -> None:
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    expected = (torch.rand(1), random.random(), np.random.rand())
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    list(build_dataloader(augmented, 4, shuffle=True, seed=1))
    assert (torch.rand(1), random.random(), np.random.rand()) == expected


def test_loader_options(augmented: SampleDataset) -> None:
    loader = build_dataloader(augmented, 5, shuffle=False, drop_last=True)
    assert len(loader) == 3 and loader.dataset.info.name == "sample"
    assert loader.dataset[0][0].shape == (3, 48, 64)  # plain indexing still works
    subset = build_dataloader(Subset(augmented, [0, 1, 2]), 3, shuffle=True)  # has __getitems__
    assert next(iter(subset))[0].shape == (3, 3, 48, 64)
    plain = SampleDataset("val", eval_transforms(), length=3)
    images, masks = next(iter(build_dataloader(plain, 3, shuffle=False)))
    for i in range(3):  # shuffle=False: dataset order, items as the dataset gives them
        assert torch.equal(images[i], plain[i][0]) and torch.equal(masks[i], plain[i][1])
    with pytest.raises(ConfigError):
        build_dataloader(augmented, 0, shuffle=False)
    with pytest.raises(ConfigError):
        build_dataloader(augmented, 2, shuffle=False, workers=-1)


def test_ranks_split_one_seeded_order_and_augment_alike(augmented: SampleDataset) -> None:
    """DDP: ranks take interleaved shares of the single-process order (16 items, 3 ranks: 15
    used, 5 each) and each item arrives augmented exactly as the single process gets it."""
    whole = list(build_dataloader(augmented, 1, shuffle=True, seed=5))
    shares = [
        list(build_dataloader(augmented, 1, shuffle=True, seed=5, rank=r, world_size=3))
        for r in range(3)
    ]
    assert [len(share) for share in shares] == [5, 5, 5]
    for rank, share in enumerate(shares):
        for step, (images, masks) in enumerate(share):
            reference = whole[rank + 3 * step]
            assert torch.equal(images, reference[0]) and torch.equal(masks, reference[1])
    with pytest.raises(ConfigError, match="Bad rank 2 of 2"):
        build_dataloader(augmented, 1, shuffle=True, rank=2, world_size=2)


def test_class_weights_known_counts(tmp_path: Path) -> None:
    """Two masks: class 0 = 300 px, class 1 = 60 px, class 2 = 0 px, plus ignored pixels."""
    root = make_folder(tmp_path / "f", count=2, layout="lists")
    (root / "train.txt").write_text("img00\nimg01\n")
    first = np.zeros((20, 24), dtype=np.uint8)
    first[:5, :12] = 1  # 60 px of class 1
    first[15:, :] = IGNORE_INDEX  # 120 px ignored → 300 px of class 0 in total
    save(first, root / "masks" / "img00.png")
    second = np.full((20, 24), IGNORE_INDEX, dtype=np.uint8)
    second[:5, :12] = 0  # 60 more px of class 0
    save(second, root / "masks" / "img01.png")
    ds = build_dataset(f"folder:{root}", "train")
    counts = np.array([360.0, 60.0, 0.0])
    share = counts / counts.sum()
    enet = compute_class_weights(ds, 3)
    torch.testing.assert_close(enet, torch.tensor([1 / math.log(1.02 + p) for p in share]))
    inverse = compute_class_weights(ds, 3, method="inverse")
    torch.testing.assert_close(inverse, torch.tensor([420 / (2 * 360), 420 / (2 * 60), 0.0]))
    median = compute_class_weights(ds, 3, method="median_freq")
    freq = np.array([360 / 420, 60 / 360])  # class 1 only appears in the first image
    torch.testing.assert_close(median, torch.tensor([*(np.median(freq) / freq), 0.0]).float())


def test_class_weights_errors(tmp_path: Path) -> None:
    sample = build_dataset("sample")
    with pytest.raises(ConfigError, match="Unknown class-weight method 'enett'.*'enet'"):
        compute_class_weights(sample, 5, method="enett")
    with pytest.raises(DataError, match="label id 4 but num_classes is 3"):
        compute_class_weights(sample, 3)
    unlabeled = build_dataset(f"images:{make_images(tmp_path / 'i')}")
    with pytest.raises(DataError, match="has no labels"):
        compute_class_weights(unlabeled, 3)
