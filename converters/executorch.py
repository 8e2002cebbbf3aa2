"""ExecuTorch: ``torch.export`` → (XNNPACK PT2E int8) → XNNPACK lowering → ``.pte``.

INT8 is static, symmetric and per-channel (``XNNPACKQuantizer`` with
``get_symmetric_quantization_config``), calibrated on real images, via torchao's
``prepare_pt2e``/``convert_pt2e`` (``torch.ao.quantization.quantize_pt2e`` is gone from torch).
FP16 exports a half-precision copy of the model between two casts, so XNNPACK runs every
delegated op in fp16 while the program still takes and returns float32 (the casts stay outside
the delegate). Files are ``<arch>_xnnpack_fp32.pte`` / ``_fp16.pte`` / ``_q8.pte``; parity
runs them in ``executorch.runtime`` (:mod:`edgeseg.runtimes.executorch`). The label is ``int8``
only when the whole graph was delegated and every compute op's output is re-quantized; otherwise
``int8-mixed`` with the float ops in the notes.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from edgeseg.converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    op_list,
    register_converter,
    variant_tag,
)
from edgeseg.converters.pt2e import Int8GraphQuantizer, minmax_activations, quantize_pt2e
from edgeseg.converters.xnnpack_lowering import lower_to_xnnpack
from edgeseg.quantization import QuantLabel, QuantMode

_DELEGATE = "executorch_call_delegate"
_PLUMBING = ("getitem", "alloc", "view", "_to_copy", "dim_order")
_CLAMPS = ("relu", "hardtanh", "clamp")
_FP16_NOTE = (
    "XNNPACK fp16 compute, float32 I/O; conv weights are stored fp32 in the file "
    "(executorch's XNNPACK serializer forces it), so it is not smaller than fp32"
)


_FILE_TAGS = {QuantMode.NONE: "fp32", QuantMode.FP16: "fp16", QuantMode.INT8: "q8"}


@register_converter
class Executorch(Converter):
    name = "executorch"
    suffix = ".pte"
    runtime = "executorch"
    quant_modes = (QuantMode.NONE, QuantMode.FP16, QuantMode.INT8)
    requires = ("executorch", "torchao")
    install_hint = "pip install 'edgeseg[executorch]'"

    def filename(self, arch: str, spec: ExportSpec) -> str:
        quant = _FILE_TAGS[spec.quantize]
        return f"{arch}_xnnpack_{quant}{variant_tag(spec)}{self.suffix}"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        started = time.perf_counter()
        with torch.no_grad():
            float_ops = ""
            if spec.quantize == QuantMode.INT8:
                model = _quantize_pt2e(model, example, spec)
                float_ops = _float_ops(model.graph)
            elif spec.quantize == QuantMode.FP16:
                model = HalfPrecision(model)
            program = torch.export.export(model, (example,))
            edge = lower_to_xnnpack(program)
            graph_module = edge.exported_program().graph_module
            leftover = _undelegated(graph_module)
            et_program = edge.to_executorch()
        out_path.write_bytes(et_program.buffer)
        details = partition_report(graph_module)
        if spec.quantize == QuantMode.INT8:
            details.append(f"float ops: {float_ops}" if float_ops else "every compute op is int8")
        notes = [f"not delegated to XNNPACK: {op_list(leftover)}"] if leftover else []
        notes += [f"float ops: {float_ops}"] if float_ops else []
        notes += [_FP16_NOTE] if spec.quantize == QuantMode.FP16 else []
        label = QuantLabel.FP16 if spec.quantize == QuantMode.FP16 else QuantLabel.FP32
        if spec.quantize == QuantMode.INT8:
            label = QuantLabel.INT8_MIXED if leftover or float_ops else QuantLabel.INT8
        seconds = time.perf_counter() - started
        size = out_path.stat().st_size
        return ExportResult(self.name, label, out_path, size, seconds, notes, details=details)


class HalfPrecision(nn.Module):
    """fp16 weights and compute inside, float32 at the boundary (what apps feed and read).

    Hardswish/hardsigmoid are rewritten as plain fp16 arithmetic: torch's decompositions of the
    built-ins compute half inputs in fp32, which split the graph into 19 XNNPACK partitions with
    casts between them (lraspp_mobilenet_v3_small); written out, one fp16 partition remains.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).half()
        for parent in list(self.model.modules()):
            for name, child in parent.named_children():
                if isinstance(child, (nn.Hardswish, nn.Hardsigmoid)):
                    setattr(parent, name, _HardActivation(isinstance(child, nn.Hardswish)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(x if not x.is_floating_point() else x.half())
        return y.float() if y.is_floating_point() else y


class _HardActivation(nn.Module):
    """``x·relu6(x+3)/6`` (hardswish) or ``relu6(x+3)/6`` (hardsigmoid) in the input's dtype."""

    def __init__(self, swish: bool) -> None:
        super().__init__()
        self.swish = swish

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = (x + 3).clamp(0, 6) / 6
        return x * gate if self.swish else gate


def _quantize_pt2e(model: nn.Module, example: torch.Tensor, spec: ExportSpec) -> nn.Module:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    config = get_symmetric_quantization_config(is_per_channel=spec.per_channel, is_dynamic=False)
    config = minmax_activations(config)
    return quantize_pt2e(
        model,
        example,
        spec,
        Int8GraphQuantizer(XNNPACKQuantizer().set_global(config), config),
        "executorch",
    )


def _float_ops(graph: torch.fx.Graph) -> str:
    """E.g. "aten.conv2d.default×3": compute whose output is never re-quantized, so runs in float.

    A conv/linear feeding a ReLU-type clamp counts as integer (XNNPACK fuses the clamp); the
    op producing the graph's output may be float (the logits are dequantized for the app).
    """
    left: Counter[str] = Counter()
    for node in graph.nodes:
        name = str(node.target)
        if node.op != "call_function" or "quantize" in name or any(p in name for p in _PLUMBING):
            continue
        if _quantized(node) or any(u.op == "output" for u in node.users):
            continue
        users = list(node.users)
        fused = len(users) == 1 and any(c in str(users[0].target) for c in _CLAMPS)
        if fused and _quantized(users[0]):
            continue
        left[name] += 1
    return op_list(left)


def _quantized(node: torch.fx.Node) -> bool:
    return any("quantize_per" in str(user.target) for user in node.users)


def partition_report(graph_module: torch.fx.GraphModule) -> list[str]:
    """How many XNNPACK partitions, how many ops they took, and which compute ops they left."""
    partitions = delegated = 0
    for node in graph_module.graph.nodes:
        if node.op == "get_attr" and hasattr(getattr(graph_module, node.target), "original_module"):
            partitions += 1
            inner = getattr(graph_module, node.target).original_module.graph
            delegated += sum(1 for n in inner.nodes if n.op == "call_function")
    leftover = _undelegated(graph_module)
    return [
        f"XNNPACK partitions: {partitions}, ops delegated: {delegated}, "
        f"not delegated: {sum(leftover.values())}",
        f"not delegated: {op_list(leftover)}" if leftover else "every compute op is delegated",
    ]


def _undelegated(graph_module: torch.fx.GraphModule) -> Counter[str]:
    """``{"aten.hardswish": 2, …}``: compute ops left outside XNNPACK delegates."""
    left: Counter[str] = Counter()
    for node in graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        name = getattr(node.target, "__name__", str(node.target))
        if _DELEGATE in name or any(p in name for p in _PLUMBING):
            continue
        left[name] += 1
    return left
