"""PT2E static quantization shared by the targets that quantize in PyTorch (ExecuTorch, TFLite,
later Core ML W8A8): export → prepare with the target's quantizer → calibrate on real images →
convert. Only the quantizer (and whether quantize ops are folded) differs between targets."""

from __future__ import annotations

import torch
from torch import nn

from converters.base import ExportSpec
from edgeseg.errors import ExportError


def quantize_pt2e(
    model: nn.Module,
    example: torch.Tensor,
    spec: ExportSpec,
    quantizer: object,
    target: str,
    fold_quantize: bool = True,
) -> nn.Module:
    """A calibrated, converted (Q/DQ) graph module; needs ``spec.calibration`` images."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if not spec.calibration:
        raise ExportError(f"{target} int8 needs calibration images: pass --calib-data SPEC")
    graph = torch.export.export(model, (example,)).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for x in spec.calibration:
            prepared(x)
    return convert_pt2e(prepared, fold_quantize=fold_quantize)
