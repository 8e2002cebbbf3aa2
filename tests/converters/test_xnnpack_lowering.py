"""The faster XNNPACK lowering (converters/xnnpack_lowering.py) must produce exactly the stock
lowering's program: it only skips work that cannot change the result."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytest.importorskip("executorch")

from edgeseg.converters.xnnpack_lowering import lower_to_xnnpack, needed_passes  # noqa: E402


class Block(nn.Module):
    """What our segmentation graphs hold: conv+BN, hardswish, a 2-way cat, bilinear upsampling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.hardswish(self.bn(self.conv(x)))
        y = self.head(torch.cat([y, torch.relu(y)], dim=1))
        return nn.functional.interpolate(y, size=x.shape[-2:], mode="bilinear")


def _program(quantized: bool) -> torch.export.ExportedProgram:
    torch.manual_seed(0)
    model, x = Block().eval(), torch.rand(1, 3, 16, 16)
    if quantized:
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config())
        prepared = prepare_pt2e(torch.export.export(model, (x,)).module(), quantizer)
        prepared(x)
        model = convert_pt2e(prepared)
    return torch.export.export(model, (x,))


@pytest.mark.parametrize("quantized", [False, True], ids=["fp32", "int8"])
def test_same_program_as_stock_lowering(quantized: bool) -> None:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    stock = to_edge_transform_and_lower(_program(quantized), partitioner=[XnnpackPartitioner()])
    lean = lower_to_xnnpack(_program(quantized))
    assert lean.to_executorch().buffer == stock.to_executorch().buffer


def test_passes_are_skipped_only_when_nothing_matches() -> None:
    from executorch.backends.xnnpack._passes import XNNPACKPassManager
    from executorch.exir import to_edge

    stock = XNNPACKPassManager(_program(False)).passes
    bn_graph = to_edge(_program(False)).exported_program().graph  # what preprocess is given
    names = {p.__name__ for p in needed_passes(stock, bn_graph)}
    assert {"FuseBatchNormPass", "DecomposeBatchNorm"} <= names  # it holds batch norm
    assert "ConvertToSDPAPass" not in names and "Conv1dUnsqueezePass" not in names
    assert "ChannelsLastTaggedReshapePass" in names  # not in the table: always runs

    class UpstreamNewPass:
        pass

    assert needed_passes([UpstreamNewPass], bn_graph) == [UpstreamNewPass]
