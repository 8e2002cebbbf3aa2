"""Every registered model: logits shape, feature taps, export (parametrized over the registry)."""

from __future__ import annotations

import math

import pytest
import torch

from edgeseg.models import SegmentationModel, create_model, list_models, model_info


@pytest.fixture(scope="module", params=list_models())
def built(request: pytest.FixtureRequest) -> tuple[str, SegmentationModel]:
    torch.manual_seed(0)
    return request.param, create_model(request.param, num_classes=7).eval()


def test_forward_train_mode(built) -> None:
    _, model = built
    model.train()
    try:
        with torch.no_grad():
            assert model(torch.randn(2, 3, 96, 128)).shape == (2, 7, 96, 128)
    finally:
        model.eval()


def test_forward_and_taps_eval(built) -> None:
    """Odd sizes come back at the input size; taps have the declared channels and strides."""
    name, model = built
    h, w = (97, 131) if model_info(name).role == "student" else (65, 83)
    x = torch.randn(1, 3, h, w)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        taps = model.forward_features(x)
        out = model(x)
    assert out.shape == (1, 7, h, w)
    torch.testing.assert_close(taps["out"], out)
    assert {"low", "high", "out"} <= set(taps)
    assert set(taps) == set(model.feature_channels) == set(model.feature_strides)
    assert ("aux" in taps) == (getattr(model, "aux_classifier", None) is not None)
    for tap, tensor in taps.items():
        stride = model.feature_strides[tap]
        expected = (1, model.feature_channels[tap], math.ceil(h / stride), math.ceil(w / stride))
        assert tuple(tensor.shape) == expected, tap
    after = model.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[k], v) for k, v in before.items())


def test_torch_export(built) -> None:
    _, model = built
    x = torch.randn(1, 3, 128, 160)
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), model(x))


def test_aux_loss_false_removes_the_aux_head() -> None:
    model = create_model("deeplabv3_mobilenet_v3_large", aux_loss=False)
    assert model.aux_classifier is None
    assert not any(k.startswith("aux_classifier.") for k in model.state_dict())
    assert "aux" not in model.feature_channels


def test_int8_friendly_models_use_only_int8_ops() -> None:
    """No hard-swish, (hard-)sigmoid or global pooling in the exported graph."""
    banned = ("hardswish", "hardsigmoid", "sigmoid", "silu", "gelu", "adaptive_avg_pool", "mean")
    names = [n for n in list_models() if model_info(n).int8_friendly]
    assert names
    for name in names:
        model = create_model(name).eval()
        program = torch.export.export(model, (torch.randn(1, 3, 64, 64),))
        ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
        assert not [op for op in ops if any(b in op for b in banned)], (name, sorted(ops))
