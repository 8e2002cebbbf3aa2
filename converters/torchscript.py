"""TorchScript: traced and frozen, fp32. PyTorch Mobile's format — ExecuTorch is its successor."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from edgeseg.atomic import native_file
from edgeseg.converters.base import Converter, ExportResult, ExportSpec, register_converter
from edgeseg.quantization import QuantLabel, QuantMode


@register_converter
class TorchScript(Converter):
    name = "torchscript"
    suffix = ".pt"
    runtime = "torchscript"
    quant_modes = (QuantMode.NONE,)

    def quant_hint(self, quantize: str) -> str:
        return (
            "; PyTorch Mobile quantization is legacy — use ExecuTorch, its successor "
            "(--target executorch, XNNPACK int8), or --target onnx"
        )

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        started = time.perf_counter()
        with torch.no_grad():
            traced = torch.jit.trace(model, example, check_trace=False)
            frozen = torch.jit.freeze(traced.eval())
        extra = {"edgeseg.json": _json(spec.metadata)}
        with native_file(out_path) as fh:  # a full disk: OSError, not SIGABRT
            torch.jit.save(frozen, fh, _extra_files=extra)
        seconds = time.perf_counter() - started
        return ExportResult(self.name, QuantLabel.FP32, out_path, out_path.stat().st_size, seconds)


def _json(data: dict) -> str:
    import json

    return json.dumps(data, sort_keys=True)
