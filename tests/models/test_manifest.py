"""torchvision compatibility: exact keys/shapes/param counts and strict loads of real layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgeseg.models import create_model, list_models, model_info
from edgeseg.models.mobilenetv2 import mobilenet_v2
from edgeseg.models.mobilenetv3 import mobilenet_v3_large, mobilenet_v3_small
from edgeseg.models.resnet import resnet50
from tests.models.helpers import random_state_dict

TORCHVISION = [n for n in list_models() if model_info(n).torchvision]
CLASSIFIERS = {
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "mobilenet_v2": mobilenet_v2,
    "resnet50": resnet50,
}


def _shapes(model: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def test_manifest_covers_the_torchvision_models(manifest: dict) -> None:
    assert set(TORCHVISION) | set(CLASSIFIERS) == set(manifest)


@pytest.mark.parametrize("name", TORCHVISION)
def test_segmentation_keys_equal_torchvision(name: str, manifest: dict) -> None:
    model = create_model(name)
    assert list(_shapes(model).items()) == list(manifest[name]["state_dict"].items())
    assert sum(p.numel() for p in model.parameters()) == manifest[name]["params"]


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_backbone_classifier_keys_equal_torchvision(name: str, manifest: dict) -> None:
    model = CLASSIFIERS[name]()
    assert list(_shapes(model).items()) == list(manifest[name]["state_dict"].items())
    assert sum(p.numel() for p in model.parameters()) == manifest[name]["params"]


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_layout_loads_strictly(name: str, manifest: dict, tmp_path: Path) -> None:
    state = random_state_dict(manifest[name]["state_dict"])
    path = tmp_path / f"{name}.pth"
    torch.save(state, path)
    for source in (path, path.as_uri()):  # local path and file:// URL (torch.hub)
        model = create_model(name, weights=source)
        loaded = model.state_dict()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_imagenet_layout_loads_into_backbones(name: str, tmp_path: Path) -> None:
    """torchvision ImageNet weights fill every backbone tensor of each model built on them.

    The classification nets' layout is checked against the manifest above; this test runs
    without it.
    """
    state = random_state_dict(_shapes(CLASSIFIERS[name]()), seed=1)
    path = tmp_path / f"{name}.pth"
    torch.save(state, path)
    users = [n for n in list_models() if model_info(n).backbone == name]
    assert users
    for model_name in users:
        model = create_model(model_name, backbone_weights=path)
        own = model.state_dict()
        filled = {model.backbone_key(k): v for k, v in state.items()}
        filled.pop(None, None)
        assert {k for k in own if k.startswith("backbone.")} == set(filled)
        assert all(torch.equal(own[k], v) for k, v in filled.items()), model_name
