"""The ONNX int8 rewrite: exact in float, and onnxruntime then runs every op with an int8 kernel."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class _Gated(nn.Module):
    """MobileNetV3's float-island ops: hardswish, an SE block (mean over H, W → hardsigmoid)."""

    def __init__(self, width_mean: bool = True) -> None:
        super().__init__()
        self.width_mean = width_mean
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc1, self.fc2 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1)
        self.head = nn.Conv2d(8, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.hardswish(self.conv(x))
        gate = nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(y.mean((2, 3), True)))))
        if self.width_mean:  # a mean over W only: no int8 kernel for it, it stays a float mean
            y = y + y.mean(3, keepdim=True)
        return self.head(y * gate)


def _run(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_rewrite_is_exact_and_leaves_other_means_alone(tmp_path) -> None:
    from edgeseg.converters.onnx import _export
    from edgeseg.converters.onnx_int8graph import describe, rewrite_for_qdq

    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 20)
    src = tmp_path / "fp32.onnx"
    _export(_Gated().eval(), x, src)
    proto = onnx.load(str(src))
    done = rewrite_for_qdq(proto)
    ops = Counter(n.op_type for n in proto.graph.node)
    assert done == {
        "ReduceMean→GlobalAveragePool": 1,
        "HardSwish→Mul/Add/Clip": 1,
        "HardSigmoid→Mul/Add/Clip": 1,
    }
    assert ops["ReduceMean"] == 1 and ops["GlobalAveragePool"] == 1  # the W-only mean is kept
    assert not ops["HardSwish"] and not ops["HardSigmoid"]
    onnx.checker.check_model(proto)
    dst = tmp_path / "rewritten.onnx"
    onnx.save(proto, str(dst))
    np.testing.assert_allclose(_run(dst, x.numpy()), _run(src, x.numpy()), rtol=1e-5, atol=1e-5)
    assert describe(done).startswith("rewritten for int8 kernels: HardSigmoid→Mul/Add/Clip×1")


def test_int8_model_runs_every_op_in_int8_and_says_which_do_not(tmp_path) -> None:
    """After the rewrite onnxruntime fuses every compute op into a QLinear kernel; an op it
    cannot (a mean over W alone) makes the file ``int8-mixed`` and is named."""
    from edgeseg.converters.base import ExportSpec
    from edgeseg.converters.onnx import Onnx, kernel_counts

    torch.manual_seed(0)
    calib = [torch.randn(1, 3, 16, 20) for _ in range(4)]
    spec = ExportSpec("int8", (16, 20), calibration=calib)
    net = nn.Sequential(_Gated(width_mean=False), nn.Hardswish()).eval()
    result = Onnx().convert(net, calib[0], tmp_path / "m_int8.onnx", spec)
    assert result.quantize == "int8", result.notes
    assert any(n.startswith("rewritten for int8 kernels") for n in result.notes)
    counts = kernel_counts(result.path).counts
    assert not [op for op, (_, n_float) in counts.items() if n_float], counts
    assert counts["QLinearGlobalAveragePool"] == (1, 0) and "HardSigmoid" not in counts

    mixed = Onnx().convert(_Gated().eval(), calib[0], tmp_path / "mixed_int8.onnx", spec)
    assert mixed.quantize == "int8-mixed" and "float ops: ReduceMean×1" in mixed.notes


def test_int8_weights_cannot_saturate_int16_pair_sums(tmp_path) -> None:
    """Large activations times full-range weights overflow onnxruntime's u8s8 int16 pair sums
    on x86 without VNNI; on the ±64 weight grid the int8 conv still matches the float one."""
    from edgeseg.converters.base import ExportSpec
    from edgeseg.converters.onnx import Onnx

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(32, 8, 1), nn.ReLU()).eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.rand_like(net[0].weight) * 0.1 + 0.9)  # every weight near max
        net[0].bias.zero_()
    calib = [torch.rand(1, 32, 8, 8) * 0.1 + 0.9 for _ in range(4)]  # activations near max
    spec = ExportSpec("int8", (8, 8), calibration=calib)
    result = Onnx().convert(net, calib[0], tmp_path / "sat_int8.onnx", spec)
    proto = onnx.load(str(result.path))
    weights = [onnx.numpy_helper.to_array(t) for t in proto.graph.initializer if t.data_type == 3]
    assert weights and max(int(np.abs(w).max()) for w in weights) <= 64
    got = _run(result.path, calib[0].numpy())
    with torch.no_grad():
        want = net(calib[0]).numpy()
    np.testing.assert_allclose(got, want, rtol=0.02)


def test_output_tail_is_only_post_processing() -> None:
    """Upsampling and argmax after the output dequantize are the tail; a float conv is not."""
    from onnx import TensorProto, helper

    from edgeseg.converters.onnx import output_tail

    def graph(*nodes):
        io = helper.make_tensor_value_info
        return helper.make_graph(
            list(nodes), "g", [io("x", TensorProto.FLOAT, None)], [io("y", TensorProto.INT64, None)]
        )

    node = helper.make_node
    tail = output_tail(
        graph(
            node("Conv", ["x", "w"], ["c"], name="conv"),
            node("Resize", ["c", "", "", "sizes"], ["r"], name="resize"),
            node("ArgMax", ["r"], ["a"], name="argmax"),
            node("Cast", ["a"], ["y"], name="cast", to=TensorProto.INT64),
        )
    )
    assert tail == {"resize", "argmax", "cast"}
    branch = output_tail(
        graph(  # a Resize whose result also feeds compute is no tail
            node("Resize", ["x", "", "", "sizes"], ["r"], name="resize"),
            node("Conv", ["r", "w"], ["c"], name="conv"),
            node("Add", ["c", "r"], ["y"], name="add"),
        )
    )
    assert branch == set()
