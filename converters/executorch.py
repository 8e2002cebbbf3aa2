"""ExecuTorch: ``torch.export`` → (XNNPACK PT2E int8) → ``to_edge_transform_and_lower`` → ``.pte``.

INT8 is static, symmetric and per-channel (``XNNPACKQuantizer`` with
``get_symmetric_quantization_config``), calibrated on real images, via torchao's
``prepare_pt2e``/``convert_pt2e`` (``torch.ao.quantization.quantize_pt2e`` is gone from torch).
Files are ``<arch>_xnnpack_fp32.pte`` / ``<arch>_xnnpack_q8.pte``; parity runs them in
``executorch.runtime``. Ops XNNPACK does not take stay on the portable (float) kernels, so the
label is ``int8`` only when the whole graph was delegated, ``int8-mixed`` otherwise.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    RunFn,
    register_converter,
    variant_tag,
)
from edgeseg.errors import ExportError

_DELEGATE = "executorch_call_delegate"
_PLUMBING = ("getitem", "alloc", "view", "_to_copy", "dim_order")


@register_converter
class Executorch(Converter):
    name = "executorch"
    suffix = ".pte"
    quant_modes = ("none", "int8")
    requires = ("executorch", "torchao")
    install_hint = "pip install 'edgeseg[executorch]'"

    def filename(self, arch: str, spec: ExportSpec) -> str:
        quant = "q8" if spec.quantize == "int8" else "fp32"
        return f"{arch}_xnnpack_{quant}{variant_tag(spec)}{self.suffix}"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        started = time.perf_counter()
        with torch.no_grad():
            if spec.quantize == "int8":
                model = _quantize_pt2e(model, example, spec)
            program = torch.export.export(model, (example,))
            edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
            leftover = _undelegated(edge.exported_program().graph_module)
            et_program = edge.to_executorch()
        out_path.write_bytes(et_program.buffer)
        notes = [f"not delegated to XNNPACK: {leftover}"] if leftover else []
        label = "fp32"
        if spec.quantize == "int8":
            label = "int8-mixed" if leftover else "int8"
        seconds = time.perf_counter() - started
        return ExportResult(self.name, label, out_path, out_path.stat().st_size, seconds, notes)

    def load(self, path: Path) -> RunFn:
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(Path(path)).load_method("forward")

        def run(x: torch.Tensor) -> torch.Tensor:
            return method.execute([x.contiguous()])[0]

        return run


def _quantize_pt2e(model: nn.Module, example: torch.Tensor, spec: ExportSpec) -> nn.Module:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if not spec.calibration:
        raise ExportError("executorch int8 needs calibration images: pass --calib-data SPEC")
    config = get_symmetric_quantization_config(is_per_channel=spec.per_channel, is_dynamic=False)
    quantizer = XNNPACKQuantizer().set_global(config)
    graph = torch.export.export(model, (example,)).module()
    prepared = prepare_pt2e(graph, quantizer)
    for x in spec.calibration:
        prepared(x)
    return convert_pt2e(prepared)


def _undelegated(graph_module: torch.fx.GraphModule) -> str:
    """ "aten.hardswish×2, …": compute ops left outside XNNPACK delegates."""
    left: Counter[str] = Counter()
    for node in graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        name = getattr(node.target, "__name__", str(node.target))
        if _DELEGATE in name or any(p in name for p in _PLUMBING):
            continue
        left[name] += 1
    return ", ".join(f"{op}×{n}" for op, n in sorted(left.items()))
