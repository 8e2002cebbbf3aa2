"""Teacher cache: cached logits warped with the student's own augmentation; reuse; limits."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from PIL import Image

from edgeseg.checkpoint import load_checkpoint
from edgeseg.data import IGNORE_INDEX, SampleDataset, train_transforms
from edgeseg.distill.cache import warp
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.run import distill
from tests.distill.conftest import SIZE


@pytest.mark.parametrize("seed", range(6))
def test_warped_cache_lands_where_the_augmented_labels_are(seed) -> None:
    """One-hot logits of the un-augmented (resized) mask, replayed with the geometry the train
    transform drew, must agree with the transform's own augmented mask."""
    image, mask = SampleDataset("train")[seed]
    transform = train_transforms(SIZE, scale=(0.5, 2.0))
    random.seed(seed)
    _, augmented = transform(image, mask)
    geometry = transform.geometry()
    base = torch.from_numpy(np.array(mask.resize(SIZE[::-1], Image.NEAREST), dtype=np.int64))
    logits = torch.nn.functional.one_hot(base, 5).permute(2, 0, 1).float() * 10
    warped, valid = warp(logits, torch.ones(SIZE, dtype=torch.bool), geometry, SIZE)
    assert warped.shape == (5, *SIZE)
    labeled = augmented != IGNORE_INDEX
    agreement = (warped.argmax(0)[labeled] == augmented[labeled]).float().mean()
    assert agreement > 0.9, (geometry, float(agreement))
    if geometry["scaled_h"] < SIZE[0]:  # padding: no teacher there
        assert not valid[geometry["scaled_h"] :].any()


def _cfg(tmp_path, teacher, **kw) -> DistillConfig:
    base = dict(
        arch="lraspp_mobilenet_v3_small",
        data="sample",
        out=tmp_path / "out",
        epochs=1,
        batch_size=4,
        size=SIZE,
        workers=0,
        progress=False,
        limit_train_batches=2,
        limit_val_batches=1,
        teacher=str(teacher),
        teacher_cache=str(tmp_path / "cache"),
    )
    base.update(kw)
    return DistillConfig(**base)


def test_cache_is_written_once_and_reused(tmp_path, teacher_ckpt, capsys) -> None:
    first = distill(_cfg(tmp_path, teacher_ckpt))
    # what the cached teacher teaches is measured against the labels, printed and kept
    agreement = load_checkpoint(first.last_path).meta.recipe["teacher_vs_labels"]
    assert agreement["images"] == 240 and len(agreement["iou"]) == 5
    assert 0.0 < agreement["miou"] <= 1.0 and sum(agreement["pixels"]) > 0
    assert f"teacher vs labels at {SIZE[0]}x{SIZE[1]}" in capsys.readouterr().err
    shard = tmp_path / "cache" / "logits_0000.npy"
    logits = np.load(shard, mmap_mode="r")
    assert logits.dtype == np.float16 and logits.shape == (240, 5, *SIZE)
    stamp = shard.stat().st_mtime_ns
    second = distill(_cfg(tmp_path, teacher_ckpt, out=tmp_path / "again"))
    assert shard.stat().st_mtime_ns == stamp  # same teacher, data, size: reused
    assert first.history[0]["loss"] == pytest.approx(second.history[0]["loss"])


def test_cached_and_live_teacher_agree_without_augmentation(tmp_path, teacher_ckpt) -> None:
    """With scale 1 the only warp left is the flip; losses stay close to the live teacher's."""
    kw = dict(scale=(1.0, 1.0), losses=("kd:weight=1",), lr=1e-9)
    live = distill(_cfg(tmp_path, teacher_ckpt, teacher_cache=None, **kw)).history[0]["loss"]
    cached = distill(_cfg(tmp_path, teacher_ckpt, out=tmp_path / "c", **kw)).history[0]["loss"]
    assert cached == pytest.approx(live, rel=0.25)
    assert torch.isfinite(torch.tensor(cached))


def test_cache_is_rebuilt_when_the_teacher_runs_at_another_size(tmp_path, teacher_ckpt) -> None:
    """``--teacher-size`` changes the logits, so a cache made without it must not be reused."""
    distill(_cfg(tmp_path, teacher_ckpt))
    shard = tmp_path / "cache" / "logits_0000.npy"
    before = np.load(shard).astype(np.float32)
    distill(_cfg(tmp_path, teacher_ckpt, out=tmp_path / "sized", teacher_size=(32, 40)))
    after = np.load(shard).astype(np.float32)
    assert not np.allclose(before, after, atol=1e-3)
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert index["signature"]["teacher"]["input_size"] == [32, 40]


def test_cutmix_pastes_the_cached_teacher_with_the_pixels(tmp_path, teacher_ckpt) -> None:
    """With every batch mixed, a cached run trains (teacher logits pasted with the boxes) and
    takes other steps than the plain one; the recipe says so."""
    plain = distill(_cfg(tmp_path, teacher_ckpt))
    mixed = distill(_cfg(tmp_path, teacher_ckpt, out=tmp_path / "mixed", cutmix=1.0))
    assert load_checkpoint(mixed.last_path).meta.recipe["cutmix"] == 1.0
    assert torch.isfinite(torch.tensor(mixed.history[0]["loss"]))
    assert mixed.history[0]["loss"] != pytest.approx(plain.history[0]["loss"])


def test_feature_kd_reads_the_teachers_taps_from_the_cache(tmp_path, teacher_ckpt) -> None:
    """A feature loss with --teacher-cache stores the taps once (the cache built without them
    is rebuilt), and trains from them."""
    distill(_cfg(tmp_path, teacher_ckpt))
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert index["taps"] == [] and not list((tmp_path / "cache").glob("features_*"))
    losses = ("ce:weight=1", "feature:weight=1,taps=high")
    result = distill(_cfg(tmp_path, teacher_ckpt, out=tmp_path / "feat", losses=losses))
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert index["taps"] == ["high", "low", "mid"]  # what the checkpoint teacher has
    high = np.load(tmp_path / "cache" / "features_high_0000.npy", mmap_mode="r")
    assert high.dtype == np.float16 and high.shape[:2] == (240, 576)
    assert np.isfinite(result.history[0]["loss"])
