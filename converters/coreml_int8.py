"""Core ML INT8 as W8A8: activations calibrated in PyTorch (PT2E), then ``ct.convert``.

``ct.convert`` turns a PT2E quantize/dequantize graph into MIL ``quantize``/``dequantize`` ops
around float compute plus ``constexpr_affine_dequantize`` int8 weights: the Neural Engine runs
such a program with int8 activations. Quantizers are tried in order: coremltools' own
``CoreMLQuantizer`` (int8 weights, uint8 activations; it needs ``torch.ao.quantization.quantizer``,
which torch ≥ 2.10 no longer ships, and its graphs can mix uint8 and int8 at an elementwise
multiply, which ``ct.convert`` rejects), then the XNNPACK scheme through torchao (int8 symmetric
weights per channel, int8 activations per tensor: one dtype everywhere). If neither yields a
program with quantized activations, :func:`edgeseg.converters.coreml` falls back to weight-only
INT8 and says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import torch
from torch import nn

from edgeseg.atomic import reraise_if_terminated
from edgeseg.converters.base import ExportSpec
from edgeseg.converters.pt2e import Int8GraphQuantizer, minmax_activations, quantize_pt2e

_PLUMBING = {
    "const",
    "quantize",
    "dequantize",
    "cast",
    "reshape",
    "transpose",
    "squeeze",
    "expand_dims",
    "constexpr_affine_dequantize",
    "constexpr_blockwise_shift_scale",
    "identity",
}
_CLAMPS = ("relu", "relu6", "clip")


def calibrate_w8a8(
    model: nn.Module, example: torch.Tensor, spec: ExportSpec
) -> tuple[nn.Module, str]:
    """The calibrated Q/DQ module and which quantizer made it (with why earlier ones did not);
    raises with every attempt's reason."""
    reasons = []
    for name, build in (("CoreMLQuantizer", _coreml_quantized), ("XNNPACK scheme", _xnnpack)):
        try:
            calibrated = build(model, example, spec)
            return calibrated, name + (f" ({'; '.join(reasons)})" if reasons else "")
        except Exception as exc:  # an unusable quantizer here is a reason, not a crash
            reraise_if_terminated()  # a signal, not a quantizer's failure
            reasons.append(f"{name}: {type(exc).__name__}: {str(exc).strip()[:120]}")
    raise RuntimeError("; ".join(reasons))


def _coreml_quantized(model: nn.Module, example: torch.Tensor, spec: ExportSpec) -> nn.Module:
    from torch.ao.quantization.quantize_pt2e import convert_pt2e, prepare_pt2e  # noqa: I001
    from coremltools.optimize.torch.quantization import LinearQuantizerConfig
    from coremltools.optimize.torch.quantization._coreml_quantizer import CoreMLQuantizer

    config = LinearQuantizerConfig.from_dict(
        {
            "global_config": {
                "quantization_scheme": "symmetric",
                "milestones": [0, 0, 10, 10],
                "weight_per_channel": spec.per_channel,
            }
        }
    )
    graph = torch.export.export(model, (example,)).module()
    prepared = prepare_pt2e(graph, CoreMLQuantizer(config))
    with torch.no_grad():
        for x in spec.calibration:
            prepared(x)
    return convert_pt2e(prepared)


def _xnnpack(model: nn.Module, example: torch.Tensor, spec: ExportSpec) -> nn.Module:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    config = get_symmetric_quantization_config(is_per_channel=spec.per_channel, is_dynamic=False)
    config = minmax_activations(config)
    quantizer = Int8GraphQuantizer(XNNPACKQuantizer().set_global(config), config)
    return quantize_pt2e(model, example, spec, quantizer, "coreml")


def mil_ops(mlmodel) -> list:
    """Every operation of the converted program's main function, in order."""
    program = getattr(mlmodel, "_mil_program", None)  # None on a package loaded from disk
    return list(program.functions["main"].operations) if program is not None else []


def compute_ops(mlmodel) -> dict[str, tuple[int, int]]:
    """``{"conv": (n_int8, n_float), …}``: compute ops by whether their input is dequantized."""
    counts: dict[str, list[int]] = {}
    for op in mil_ops(mlmodel):
        if op.op_type in _PLUMBING:
            continue
        is_int = _producer(op) == "dequantize" or _fused_activation(op)
        counts.setdefault(op.op_type, [0, 0])[0 if is_int else 1] += 1
    return {op: (n[0], n[1]) for op, n in sorted(counts.items())}


def _producer(op) -> str | None:
    first = next(iter(op.inputs.values()), None)
    return getattr(getattr(first, "op", None), "op_type", None)


def _fused_activation(op) -> bool:
    """A ReLU-type clamp right after a conv and re-quantized: one int8 conv with a clamped output
    on every backend, as in the ExecuTorch and TFLite counts."""
    if op.op_type not in _CLAMPS or _producer(op) not in ("conv", "linear"):
        return False
    users = [child.op_type for out in op.outputs for child in out.child_ops]
    return bool(users) and all(u == "quantize" for u in users)


def op_census(mlmodel, keep: Callable[[str], bool]) -> Counter[str]:
    return Counter(op.op_type for op in mil_ops(mlmodel) if keep(op.op_type))
