"""Weight files: wrappers, edgeseg checkpoints, class-count changes and typed errors."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest
import torch

from edgeseg.errors import WeightsError
from edgeseg.models import create_model, load_weights_file

NAME = "lraspp_mobilenet_v3_small"  # smallest model: these tests are about the loader


@pytest.fixture(scope="module")
def reference_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return create_model(NAME, num_classes=21).state_dict()


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("wrapper", [None, "model", "state_dict", "model_state"])
def test_wrappers_are_unwrapped(wrapper, reference_state, tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    # torchvision's references/segmentation also pickle their argparse.Namespace under "args"
    extra = {"epoch": 3, "args": argparse.Namespace(lr=0.02, model="lraspp")}
    torch.save(reference_state if wrapper is None else {wrapper: reference_state, **extra}, path)
    state = load_weights_file(path)
    assert list(state) == list(reference_state)


def test_file_url(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "url.pth"
    torch.save(reference_state, path)
    model = create_model(NAME, weights=path.as_uri())
    assert all(torch.equal(model.state_dict()[k], v) for k, v in reference_state.items())


def test_module_prefix_is_stripped(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "ddp.pth"
    torch.save({f"module.{k}": v for k, v in reference_state.items()}, path)
    model = create_model(NAME, weights=path)
    assert torch.equal(
        model.state_dict()["classifier.cbr.0.weight"], reference_state["classifier.cbr.0.weight"]
    )


def test_edgeseg_checkpoint(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pth"
    meta = {"arch": NAME, "num_classes": 21, "epoch": 4}
    torch.save({"format": "edgeseg-checkpoint", "state_dict": reference_state, "meta": meta}, path)
    model = create_model(NAME, weights=path)
    assert torch.equal(
        model.state_dict()["backbone.0.0.weight"], reference_state["backbone.0.0.weight"]
    )
    with pytest.raises(WeightsError) as err:
        create_model("lraspp_mobilenet_v3_large", weights=path)
    assert f"is a checkpoint of '{NAME}', not 'lraspp_mobilenet_v3_large'" in _one_line(err)


def test_other_num_classes_reinitialises_only_the_classifier(
    reference_state, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "w21.pth"
    torch.save(reference_state, path)
    with caplog.at_level(logging.INFO, logger="edgeseg.models"):
        model = create_model(NAME, num_classes=11, weights=path)
    assert "re-initialised" in caplog.text
    state = model.state_dict()
    for key, value in reference_state.items():
        if key.startswith(model.classifier_keys):
            assert state[key].shape[0] == 11, key
        else:
            assert torch.equal(state[key], value), key
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 11, 64, 64)


def test_mismatch_beyond_the_classifier_is_an_error(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "bad.pth"
    bad = dict(reference_state)
    bad["backbone.0.0.weight"] = torch.zeros(8, 3, 3, 3)
    torch.save(bad, path)
    with pytest.raises(WeightsError) as err:
        create_model(NAME, num_classes=11, weights=path)
    assert "backbone.0.0.weight" in _one_line(err) and str(path) in str(err.value)
    with pytest.raises(WeightsError) as err:  # another architecture's weights
        create_model("lraspp_mobilenet_v3_large", weights=tmp_path / "bad.pth")
    assert "do not fit 'lraspp_mobilenet_v3_large'" in _one_line(err)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    with pytest.raises(WeightsError) as err:
        create_model(NAME, weights=missing)
    assert str(missing) in _one_line(err) and "not found" in str(err.value)
    with pytest.raises(WeightsError) as err:
        create_model(NAME, weights=missing.as_uri())
    assert "Cannot fetch" in _one_line(err)


def test_not_a_checkpoint(tmp_path: Path) -> None:
    fake = tmp_path / "photo.pth"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(WeightsError) as err:
        create_model(NAME, weights=fake)
    assert str(fake) in _one_line(err) and "not a readable PyTorch weights file" in str(err.value)
    other = tmp_path / "list.pth"
    torch.save([1, 2, 3], other)
    with pytest.raises(WeightsError) as err:
        load_weights_file(other)
    assert "holds no state_dict" in _one_line(err)


def test_unknown_tag() -> None:
    with pytest.raises(WeightsError) as err:
        create_model("lraspp_mobilenet_v3_large", weights="coco")
    assert "Did you mean 'coco_voc'?" in _one_line(err)
    with pytest.raises(WeightsError) as err:
        create_model(NAME, backbone_weights="imagenet21k")
    assert "Valid: imagenet" in _one_line(err)
    with pytest.raises(WeightsError) as err:
        create_model(NAME, weights="coco_voc")  # a student without full weights
    assert "has no weights tags" in _one_line(err)


def test_backbone_weights_that_match_nothing(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "seg.pth"
    torch.save(reference_state, path)  # a segmentation state_dict is not a classification one
    with pytest.raises(WeightsError) as err:
        create_model(NAME, backbone_weights=path)
    assert "ImageNet classification weights of mobilenet_v3_small" in _one_line(err)


def test_full_weights_win_over_backbone_weights(reference_state, tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    torch.save(reference_state, path)
    model = create_model(NAME, weights=path, backbone_weights=tmp_path / "absent.pth")
    assert torch.equal(
        model.state_dict()["backbone.0.0.weight"], reference_state["backbone.0.0.weight"]
    )


def test_aux_heads_never_block_a_load(tmp_path: Path) -> None:
    name = "deeplabv3_mobilenet_v3_large"
    with_aux = create_model(name).state_dict()
    path = tmp_path / "aux.pth"
    torch.save(with_aux, path)
    model = create_model(name, aux_loss=False, weights=path)  # aux tensors ignored
    assert model.aux_classifier is None
    torch.save({k: v for k, v in with_aux.items() if not k.startswith("aux_")}, path)
    model = create_model(name, weights=path)  # aux head kept fresh
    assert model.aux_classifier is not None
    assert torch.equal(model.state_dict()["classifier.4.weight"], with_aux["classifier.4.weight"])
