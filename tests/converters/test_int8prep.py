"""The int8 preparation: weights on the int8 grid, rounding bias removed, ReLU6 ranges right."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from edgeseg.converters.int8prep import QMAX, prepare_for_int8


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU6(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU6(),
        nn.Conv2d(8, 4, 1),
    )
    for m in net.modules():  # BN statistics far from identity, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.01, 4)
            m.weight.data.uniform_(0.2, 3)
            m.bias.data.uniform_(-1, 1)
    return net.eval()


def _folded(conv: nn.Conv2d, bn: nn.BatchNorm2d | None) -> torch.Tensor:
    if bn is None:
        return conv.weight.detach()
    gain = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (conv.weight * gain.view(-1, 1, 1, 1)).detach()


@pytest.mark.parametrize(("per_channel", "qmax"), [(True, QMAX), (False, QMAX), (True, 64)])
def test_folded_weights_sit_on_the_int8_grid(per_channel, qmax) -> None:
    net = _net()
    calib = [torch.rand(1, 3, 16, 16) for _ in range(4)]
    prepared, report = prepare_for_int8(net, calib, per_channel, qmax)
    assert ("±64" in report.note()) == (qmax == 64)
    assert report.rounded == 3 and report.corrected == 3 and report.images == 4
    assert list(prepared.state_dict()) == list(net.state_dict())  # same structure and keys
    for conv, bn in ((prepared[0], prepared[1]), (prepared[3], prepared[4]), (prepared[6], None)):
        w = _folded(conv, bn)
        dims = (1, 2, 3) if per_channel else (0, 1, 2, 3)
        scale = w.abs().amax(dim=dims, keepdim=True) / qmax
        steps = w / scale
        assert torch.allclose(steps, steps.round(), atol=1e-3)
    assert not any(
        p.data_ptr() == q.data_ptr() for p, q in zip(prepared.parameters(), net.parameters())
    )  # a copy


def test_bias_correction_removes_the_mean_shift() -> None:
    """Rounding alone shifts channel means; the prepared model's outputs are centred again."""
    net = _net()
    calib = [torch.rand(1, 3, 16, 16) for _ in range(8)]
    prepared, _ = prepare_for_int8(net, calib)
    rounded_only = prepare_for_int8(net, calib)[0]
    with torch.no_grad():  # undo the correction: restore the original biases
        for (name, p), (_, q) in zip(rounded_only.named_parameters(), net.named_parameters()):
            if name.endswith("bias"):
                p.copy_(q)
    x = torch.cat(calib)
    with torch.no_grad():
        ref = net(x)
        shift_corrected = (prepared(x) - ref).mean(dim=(0, 2, 3)).abs().mean()
        shift_rounded = (rounded_only(x) - ref).mean(dim=(0, 2, 3)).abs().mean()
    assert shift_corrected < 0.5 * shift_rounded


def test_relu6_is_quantized_after_the_clamp() -> None:
    """XNNPACK's quantizer shares a hardtanh's observer with its conv; the wrapper moves it."""
    pytest.importorskip("executorch")
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    from edgeseg.converters.pt2e import Int8GraphQuantizer

    config = get_symmetric_quantization_config(is_per_channel=True)
    graph = torch.export.export(_net(), (torch.rand(1, 3, 16, 16),)).module()
    quantizer = Int8GraphQuantizer(XNNPACKQuantizer().set_global(config), config)
    prepared = prepare_pt2e(graph, quantizer)  # folds BN, then annotates, then observes
    clamps = [n for n in prepared.graph.nodes if "hardtanh" in str(n.target)]
    assert len(clamps) == 2
    for clamp in clamps:
        assert "conv" in str(clamp.args[0].target)  # no observer between conv and clamp
        (user,) = clamp.users
        assert "activation_post_process" in str(user.target)  # one observer, after the clamp


def test_hard_sigmoid_gates_fold_into_their_conv_exactly() -> None:
    """MobileNetV3's SE gates become conv' → hardtanh(0, 1): same outputs, no hardsigmoid left."""
    from edgeseg.converters.int8prep import fold_hard_gates
    from edgeseg.models import create_model

    torch.manual_seed(0)
    net = create_model("lraspp_mobilenet_v3_small", num_classes=4).eval()
    folded = copy.deepcopy(net)
    gates = sum(isinstance(m, nn.Hardsigmoid) for m in net.modules())
    assert gates > 0 and fold_hard_gates(folded) == gates
    assert not any(isinstance(m, nn.Hardsigmoid) for m in folded.modules())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), rtol=1e-4, atol=1e-4)
    _, report = prepare_for_int8(net, [x[:1]])
    assert report.gates == gates and "hard-sigmoid gates folded" in report.note()


def test_only_relu_and_relu6_take_over_the_conv_output_observer() -> None:
    """A hardtanh(0, 1) gate is no fused activation: its conv keeps its own int8 output."""
    pytest.importorskip("executorch")
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    from edgeseg.converters.pt2e import Int8GraphQuantizer

    config = get_symmetric_quantization_config(is_per_channel=True)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Hardtanh(0.0, 1.0)).eval()
    graph = torch.export.export(net, (torch.rand(1, 3, 8, 8),)).module()
    quantizer = Int8GraphQuantizer(XNNPACKQuantizer().set_global(config), config)
    prepared = prepare_pt2e(graph, quantizer)
    (clamp,) = [n for n in prepared.graph.nodes if "hardtanh" in str(n.target)]
    assert "activation_post_process" in str(clamp.args[0].target)  # observed between the two
