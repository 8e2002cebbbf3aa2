"""Training end to end on the built-in sample: checkpoints, metadata, resume, learning."""

from __future__ import annotations

import json

import pytest
import torch

from edgeseg.checkpoint import load_checkpoint, load_model, save_checkpoint
from edgeseg.train import TrainConfig, fit
from edgeseg.train.fit import build_data
from edgeseg.train.optim import lr_factor


def tiny_cfg(out, **kw) -> TrainConfig:
    base = dict(
        arch="lraspp_mobilenet_v3_small",
        data="sample",
        out=out,
        epochs=2,
        batch_size=4,
        size=(64, 80),
        workers=0,
        progress=False,
        limit_train_batches=3,
        lr=2e-3,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_checkpoint_is_one_weights_only_file_with_metadata(tmp_path) -> None:
    result = fit(tiny_cfg(tmp_path, epochs=1))
    raw = torch.load(result.best_path, weights_only=True)
    assert raw["format"] == "edgeseg-checkpoint"
    meta = raw["meta"]
    for key in (
        "arch",
        "classes",
        "palette",
        "mean",
        "std",
        "input_size",
        "dataset",
        "recipe",
        "edgeseg_version",
    ):
        assert meta[key], key
    assert meta["input_size"] == [64, 80] and meta["dataset"] == "sample"
    assert len(meta["palette"]) == len(meta["classes"]) == meta["num_classes"]
    model, _ = load_model(result.best_path)
    assert model(torch.zeros(1, 3, 64, 80)).shape == (1, meta["num_classes"], 64, 80)
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["epoch"] == 1 and "miou" in json.loads(lines[0])


def test_resume_equals_uninterrupted_run(tmp_path) -> None:
    straight = fit(tiny_cfg(tmp_path / "a", epochs=3))
    fit(tiny_cfg(tmp_path / "b", epochs=1))
    resumed = fit(tiny_cfg(tmp_path / "b", epochs=3, resume=True))
    a = load_checkpoint(straight.last_path)
    b = load_checkpoint(resumed.last_path)
    for key, value in a.state_dict.items():
        assert torch.equal(value, b.state_dict[key]), key
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in resumed.history]


def test_each_checkpoint_states_its_own_epochs_scores(tmp_path) -> None:
    fit(tiny_cfg(tmp_path, epochs=1))
    # A best score no epoch can beat: the resumed epochs are validated but none becomes best.pt,
    # so last.pt can only hold epoch 3's scores if it records its own, not the best epoch's.
    ckpt = load_checkpoint(tmp_path / "last.pt")
    model, _ = load_model(tmp_path / "last.pt")
    save_checkpoint(tmp_path / "last.pt", model, ckpt.meta, {**ckpt.train_state, "best_miou": 2.0})
    result = fit(tiny_cfg(tmp_path, epochs=3, resume=True))
    last, best = load_checkpoint(result.last_path).meta, load_checkpoint(result.best_path).meta
    scores = [pytest.approx(h["miou"], abs=1e-6) for h in result.history]  # stored to 6 places
    assert last.epoch == 3 and last.metrics["miou"] == scores[-1]
    assert best.epoch == 1 and best.metrics["miou"] == scores[0]


def test_frozen_backbone_does_not_move(tmp_path) -> None:
    """Same seed, different LR: frozen backbones stay identical while the heads diverge."""
    runs = [
        load_checkpoint(
            fit(tiny_cfg(tmp_path / str(lr), epochs=1, freeze_backbone_until=1, lr=lr)).last_path
        ).state_dict
        for lr in (1e-3, 5e-2)
    ]
    backbone = [k for k in runs[0] if k.startswith("backbone.")]
    head = [k for k in runs[0] if k.startswith("classifier.") and k.endswith("weight")]
    assert backbone and head
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in backbone)
    assert any(not torch.equal(runs[0][k], runs[1][k]) for k in head)


def test_schedule_shapes() -> None:
    assert lr_factor(0, 100, 10, "cosine") == pytest.approx(0.01)
    assert lr_factor(10, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(100, 100, 10, "cosine") == pytest.approx(0.0, abs=1e-9)
    assert lr_factor(55, 100, 10, "poly") == pytest.approx(0.5**0.9)


def test_fine_tuning_keeps_the_checkpoints_normalisation(tmp_path) -> None:
    """Weights from an edgeseg checkpoint bring their mean/std (Lite0 uses TF-Lite's)."""
    first = fit(
        tiny_cfg(
            tmp_path / "a", arch="liteseg_efficientnet_lite0", epochs=1, backbone_weights="imagenet"
        )
    )
    lite_mean = load_checkpoint(first.best_path).meta.mean
    assert lite_mean == pytest.approx([127 / 255] * 3, abs=1e-3)
    second = fit(
        tiny_cfg(
            tmp_path / "b",
            arch="liteseg_efficientnet_lite0",
            epochs=1,
            weights=str(first.best_path),
        )
    )
    assert load_checkpoint(second.best_path).meta.mean == lite_mean


def test_bn_momentum_reaches_every_batchnorm_and_is_recorded(tmp_path) -> None:
    """MobileNetV3 keeps TF's 0.01; ``--bn-momentum 0.1`` must reach every BN the run trains."""
    from edgeseg.train.fit import create_student

    default = create_student(tiny_cfg(tmp_path), 5, torch.device("cpu"))
    fast = create_student(tiny_cfg(tmp_path, bn_momentum=0.1), 5, torch.device("cpu"))
    norms = [m for m in fast.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and {m.momentum for m in norms} == {0.1}
    assert 0.01 in {m.momentum for m in default.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    result = fit(tiny_cfg(tmp_path, epochs=1, bn_momentum=0.1))
    assert load_checkpoint(result.last_path).meta.recipe["bn_momentum"] == 0.1


@pytest.mark.parametrize("value", [0.0, 1.5])
def test_bn_momentum_out_of_range_is_a_config_error(tmp_path, value) -> None:
    from edgeseg.errors import ConfigError

    with pytest.raises(ConfigError, match="--bn-momentum must be in"):
        tiny_cfg(tmp_path, bn_momentum=value)


@pytest.mark.parametrize(("option", "value"), [("cutmix", 1.0), ("color_jitter", 0.5)])
def test_an_augmentation_takes_other_steps_and_is_recorded(tmp_path, option, value) -> None:
    """``--cutmix`` / ``--color-jitter`` reach the training batches (other weights than the same
    seed without them) and the checkpoint's recipe."""
    plain = fit(tiny_cfg(tmp_path / "plain", epochs=1))
    changed = fit(tiny_cfg(tmp_path / option, epochs=1, **{option: value}))
    a = torch.load(plain.last_path, weights_only=True)
    b = torch.load(changed.last_path, weights_only=True)
    assert b["meta"]["recipe"][option] == value and a["meta"]["recipe"][option] == 0.0
    assert any(not torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


def test_colour_jitter_is_for_training_crops_only(tmp_path) -> None:
    data = build_data(tiny_cfg(tmp_path / "data", color_jitter=0.5))
    assert "ColorJitter" in repr(data.train_set.transform)
    assert "ColorJitter" not in repr(data.val_set.transform)
