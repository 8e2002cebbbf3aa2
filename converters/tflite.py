"""TFLite (LiteRT): ``litert_torch.convert`` → ``.tflite``; INT8 = static PT2E, per-channel.

By default the graph keeps NCHW inputs and outputs (the converter inserts the transposes), so the
same metadata describes every target; ``layout="nhwc"`` wraps the model with litert-torch's
``to_channel_last_io`` so input and logits are channel-last, as LiteRT runs them (no transposes
at either end). FP16 is litert-torch's float16 recipe: fp16 weights that the runtime dequantizes,
float32 input and output, labelled ``fp16-weights``. INT8 uses litert-torch's
``PT2EQuantizer`` (symmetric, static) through torchao's ``prepare_pt2e``/``convert_pt2e``,
calibrated on real images. The label is ``int8`` only when every compute op reads int8 tensors;
otherwise ``int8-mixed`` with the float ops in the notes. Parity runs the file in
``ai_edge_litert``'s Interpreter (:mod:`edgeseg.runtimes.tflite`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgeseg.converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    census_lines,
    op_list,
    register_converter,
)
from edgeseg.converters.pt2e import Int8GraphQuantizer, minmax_activations, quantize_pt2e
from edgeseg.quantization import QuantLabel, QuantMode
from edgeseg.runtimes.tflite import interpreter_for

_PLUMBING = {"QUANTIZE", "DEQUANTIZE", "TRANSPOSE", "RESHAPE", "CAST", "PAD"}


@register_converter
class Tflite(Converter):
    name = "tflite"
    suffix = ".tflite"
    runtime = "tflite"
    quant_modes = (QuantMode.NONE, QuantMode.FP16, QuantMode.INT8)
    layouts = ("nchw", "nhwc")
    requires = ("litert_torch", "ai_edge_litert")
    install_hint = "pip install 'edgeseg[tflite]'"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        import litert_torch

        started = time.perf_counter()
        if spec.layout == "nhwc":
            model, example, spec = _channel_last(model, example, spec)
        kwargs = {}
        if spec.quantize == QuantMode.INT8:
            model, kwargs["quant_config"] = _quantize_pt2e(model, example, spec)
        elif spec.quantize == QuantMode.FP16:
            from litert_torch.generative.quantize.quant_recipes import full_fp16_recipe

            kwargs["quant_config"] = full_fp16_recipe()
        shown = litert_torch.config.show_progress
        litert_torch.config.show_progress = False  # it prints to stdout: keep --json clean
        try:
            with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
                edge = litert_torch.convert(model, (example,), **kwargs)
                edge.export(str(out_path))
        finally:
            litert_torch.config.show_progress = shown
        label, notes, io_fields = _describe(out_path, spec)
        seconds = time.perf_counter() - started
        size = out_path.stat().st_size
        return ExportResult(self.name, label, out_path, size, seconds, notes, metadata=io_fields)

    def explain(self, result: ExportResult) -> list[str]:
        """Per op type: how many read int8 and how many float (delegates kept out of the view)."""
        return census_lines(op_dtypes(result.path))


def _channel_last(model: nn.Module, example: torch.Tensor, spec: ExportSpec):
    """NHWC input (and NHWC logits; a mask has no channels) via litert-torch's own wrapper."""
    import litert_torch

    outputs = [0] if spec.output == "logits" else []
    wrapped = litert_torch.to_channel_last_io(model, args=[0], outputs=outputs).eval()
    calibration = [x.permute(0, 2, 3, 1).contiguous() for x in spec.calibration]
    spec = dataclasses.replace(spec, calibration=calibration)
    return wrapped, example.permute(0, 2, 3, 1).contiguous(), spec


def _describe(path: Path, spec: ExportSpec) -> tuple[QuantLabel, list[str], dict]:
    """The honest label, notes and sidecar fields for the written file."""
    if spec.quantize == QuantMode.FP16:
        return QuantLabel.FP16_WEIGHTS, ["fp16 weights dequantized by the runtime, float32 I/O"], {}
    if spec.quantize != QuantMode.INT8:
        return QuantLabel.FP32, [], {}
    float_ops = _float_ops(path)
    notes = [f"float ops: {float_ops}"] if float_ops else []
    io_fields = quantized_io(path)
    notes += [f"quantized I/O: {io_fields}"] if io_fields else []
    return (QuantLabel.INT8_MIXED if float_ops else QuantLabel.INT8), notes, io_fields


def quantized_io(path: Path) -> dict:
    """Sidecar fields for int8 I/O: ``{"input_dtype": "int8", "input_quantization": {…}}``."""
    interpreter = interpreter_for(path, 1, delegates=True)
    fields: dict = {}
    for kind, d in (
        ("input", interpreter.get_input_details()[0]),
        ("output", interpreter.get_output_details()[0]),
    ):
        if d["quantization"][0]:
            scale, zero = d["quantization"]
            fields[f"{kind}_dtype"] = np.dtype(d["dtype"]).name
            fields[f"{kind}_quantization"] = {"scale": float(scale), "zero_point": int(zero)}
    return fields


def _quantize_pt2e(model: nn.Module, example: torch.Tensor, spec: ExportSpec):
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from litert_torch.quantize.quant_config import QuantConfig

    config = get_symmetric_quantization_config(is_per_channel=spec.per_channel, is_dynamic=False)
    config = minmax_activations(config)
    quantizer = PT2EQuantizer().set_global(config)
    converted = quantize_pt2e(
        model, example, spec, Int8GraphQuantizer(quantizer, config), "tflite", fold_quantize=False
    )
    return converted, QuantConfig(pt2e_quantizer=quantizer)


def op_dtypes(path: Path) -> dict[str, tuple[int, int]]:
    """``{"CONV_2D": (n_int8, n_float), …}``: compute ops by whether their first input is int."""
    interpreter = interpreter_for(path, 1, delegates=False)  # ops visible: no XNNPACK rewrite
    dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    counts: dict[str, list[int]] = {}
    for op in interpreter._get_ops_details():  # the only per-op view the Interpreter offers
        if op["op_name"] in _PLUMBING or not len(op["inputs"]):
            continue
        is_int = dtypes.get(int(op["inputs"][0])) in (np.int8, np.uint8, np.int16)
        counts.setdefault(op["op_name"], [0, 0])[0 if is_int else 1] += 1
    return {op: (n[0], n[1]) for op, n in sorted(counts.items())}


def _float_ops(path: Path) -> str:
    """E.g. "LOGISTIC×3": compute ops whose first input is not an int8 tensor."""
    return op_list({op: n for op, (_, n) in op_dtypes(path).items()})
