"""PT2E work skipped when it cannot change the result (converters/pt2e.py): the XNNPACK
quantizer's conv+batch-norm patterns on a graph without batch norm, and moving a graph that has
no dropout or batch norm to eval form. Both must leave the quantized graph exactly as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytest.importorskip("executorch")

import edgeseg.converters.pt2e as pt2e  # noqa: E402
from edgeseg.converters.base import ExportSpec  # noqa: E402


class Net(nn.Module):
    """conv → ReLU → (a batch norm no conv feeds, so prepare_pt2e cannot fold it) → conv."""

    def __init__(self, bn: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8) if bn else nn.Identity()
        self.out = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.bn(torch.relu(self.conv(x))) + 1.0)


def _quantize(model: nn.Module):
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16)
    spec = ExportSpec("int8", (16, 16), "float", "logits", True, "nchw", None, 2)
    spec.calibration = [x, torch.rand(1, 3, 16, 16)]
    config = get_symmetric_quantization_config(is_per_channel=True)
    inner = XNNPACKQuantizer().set_global(config)
    converted = pt2e.quantize_pt2e(
        model.eval(), x, spec, pt2e.Int8GraphQuantizer(inner, config), "test"
    )
    return converted, inner, converted(x)


def test_skips_leave_the_quantized_graph_unchanged(monkeypatch) -> None:
    torch.manual_seed(1)
    model = Net(bn=False)
    lean, inner, y_lean = _quantize(model)
    assert all("_bn" not in p.name for p in inner.SUPPORTED_PATTERNS)  # the skip happened
    assert lean.training is False

    monkeypatch.setattr(pt2e, "skip_batch_norm_patterns", lambda quantizer, graph: None)
    monkeypatch.setattr(pt2e, "_holds", lambda graph, *words: True)
    stock, inner, y_stock = _quantize(model)
    assert any("_bn" in p.name for p in inner.SUPPORTED_PATTERNS)
    assert lean.code == stock.code
    assert torch.equal(y_lean, y_stock)


def test_batch_norm_graphs_keep_the_patterns() -> None:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import XNNPACKQuantizer

    graph = torch.export.export(Net(bn=True).eval(), (torch.rand(1, 3, 16, 16),)).graph
    quantizer = XNNPACKQuantizer()
    pt2e.skip_batch_norm_patterns(quantizer, graph)
    assert any("_bn" in p.name for p in quantizer.SUPPORTED_PATTERNS)
