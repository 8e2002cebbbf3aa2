"""Core ML: ``torch.export`` → ``coremltools.convert`` → an ``.mlpackage`` (a directory).

``none`` keeps fp32 compute, ``fp16`` converts with FLOAT16 compute precision. ``int8`` is W8A8
(:mod:`edgeseg.converters.coreml_int8`: activations calibrated in PyTorch, quantize/dequantize ops
in the program), labelled ``int8`` when every compute op reads a dequantized tensor, ``int8-mixed``
otherwise; where that cannot be built, the *weights* are quantized linearly after conversion
(symmetric, per-channel or per-tensor), compute stays float and the label is ``int8-weights``,
with the reason in the notes. The Core ML runtime only exists on macOS: elsewhere the
package is written and parity is reported as skipped.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from edgeseg.atomic import reraise_if_terminated
from edgeseg.converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    census_lines,
    op_list,
    register_converter,
)
from edgeseg.converters.coreml_int8 import calibrate_w8a8, compute_ops, op_census
from edgeseg.quantization import QuantLabel, QuantMode


@register_converter
class Coreml(Converter):
    name = "coreml"
    suffix = ".mlpackage"
    runtime = "coreml"
    directory = True
    quant_modes = (QuantMode.NONE, QuantMode.FP16, QuantMode.INT8)
    requires = ("coremltools",)
    install_hint = "pip install 'edgeseg[coreml]'"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        started = time.perf_counter()
        label = spec.quantize.label  # the int8 branch decides its own
        notes: list[str] = []
        if spec.quantize == QuantMode.INT8:
            mlmodel, label, notes = _int8(model, example, spec)
        else:
            mlmodel = _convert(model, example, spec.quantize == QuantMode.FP16)
        mlmodel.user_defined_metadata.update(
            {k: v if isinstance(v, str) else str(v) for k, v in spec.metadata.items()}
        )
        mlmodel.user_defined_metadata["quantization"] = label
        mlmodel.save(str(out_path))
        size = sum(f.stat().st_size for f in out_path.rglob("*") if f.is_file())
        seconds = time.perf_counter() - started
        details = _explain(mlmodel)
        return ExportResult(self.name, label, out_path, size, seconds, notes, details=details)


def _convert(model: nn.Module, example: torch.Tensor, fp16: bool = False):
    import coremltools as ct

    with torch.no_grad():
        program = torch.export.export(model, (example,)).run_decompositions({})
    return ct.convert(
        program,
        convert_to="mlprogram",
        compute_precision=ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32,
        minimum_deployment_target=ct.target.iOS17,
    )


def _int8(model: nn.Module, example: torch.Tensor, spec: ExportSpec):
    """(mlmodel, label, notes): W8A8 where it converts, else weight-only INT8 with the reason."""
    try:
        calibrated, quantizer = calibrate_w8a8(model, example, spec)
        mlmodel = _convert(calibrated, example)
        counts = compute_ops(mlmodel)
        if not any(n_int for n_int, _ in counts.values()):
            raise RuntimeError("no compute op reads a quantized activation after conversion")
    except Exception as exc:  # W8A8 impossible here: weights only, and say why
        reraise_if_terminated()  # a signal, not a quantizer's failure
        mlmodel = _quantize_weights(_convert(model, example), spec.per_channel)
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else repr(exc)
        note = f"int8 weights, float compute: W8A8 failed ({reason})"
        return mlmodel, QuantLabel.INT8_WEIGHTS, [note]
    floats = op_list({op: n for op, (_, n) in counts.items()})
    notes = [f"W8A8: activations calibrated with {quantizer}"]
    notes += [f"float ops: {floats}"] if floats else []
    return mlmodel, QuantLabel.INT8_MIXED if floats else QuantLabel.INT8, notes


def _explain(mlmodel) -> list[str]:
    """Per compute op: int8 (reads a dequantized activation) or float; int8 weight constants."""
    counts = compute_ops(mlmodel)
    lines = census_lines(counts)
    weights = op_census(mlmodel, lambda t: t.startswith("constexpr"))
    q_ops = op_census(mlmodel, lambda t: t in ("quantize", "dequantize"))
    lines.append(
        f"int8 weight constants: {sum(weights.values())}; activation Q/DQ ops: "
        f"{sum(q_ops.values())}"
    )
    return lines


def _quantize_weights(mlmodel, per_channel: bool):
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int8",
            granularity="per_channel" if per_channel else "per_tensor",
        )
    )
    return cto.linear_quantize_weights(mlmodel, config=config)
