"""ONNX: ``torch.onnx.export`` at opset 18, one self-contained file; INT8 = onnxruntime static QDQ.

The dynamo exporter (``dynamo=True``) needs ``onnxscript``; without it the TorchScript-based
exporter is used and the result says so in its notes. FP16 converts weights and activations with
onnxruntime's ``convert_float_to_float16`` (float32 I/O kept). INT8 runs ``quant_pre_process``
(shape inference + graph optimisation), then ``quantize_static`` in QDQ format with per-channel
weights, calibrated on real images. The label is ``int8`` only when every compute op reads
dequantized int8 tensors; otherwise ``int8-mixed`` and the float ops are named in the notes.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from converters.base import Converter, ExportResult, ExportSpec, RunFn, register_converter
from edgeseg.errors import ExportError

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "image", "output"
# Ops that move or reshape data (or shapes) rather than compute on it.
_PLUMBING = {
    "QuantizeLinear", "DequantizeLinear", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat",
    "Constant", "Reshape", "Slice", "Cast", "Identity", "Transpose", "Flatten",
}  # fmt: skip


@register_converter
class Onnx(Converter):
    name = "onnx"
    suffix = ".onnx"
    quant_modes = ("none", "fp16", "int8")
    requires = ("onnx", "onnxruntime")
    install_hint = "pip install 'edgeseg[onnx]'"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        import onnx

        started = time.perf_counter()
        notes: list[str] = []
        label = "fp32"
        with tempfile.TemporaryDirectory(prefix="edgeseg-onnx-") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            notes.append(_export(model, example, fp32))
            source = fp32
            if spec.quantize == "int8":
                source = Path(tmp) / "int8.onnx"
                _quantize_int8(fp32, source, spec, Path(tmp))
                label, float_ops = int8_label(onnx.load(str(source)))
                if float_ops:
                    notes.append(f"float ops: {float_ops}")
            proto = onnx.load(str(source))
            if spec.quantize == "fp16":
                proto, label = _to_fp16(proto), "fp16"
                notes.append("fp16 weights and compute, float32 input/output")
            for key, value in {**spec.metadata, "quantization": label}.items():
                entry = proto.metadata_props.add()
                entry.key = key
                entry.value = value if isinstance(value, str) else json.dumps(value)
            onnx.save_model(proto, str(out_path), save_as_external_data=False)
        seconds = time.perf_counter() - started
        return ExportResult(self.name, label, out_path, out_path.stat().st_size, seconds, notes)

    def explain(self, result: ExportResult) -> list[str]:
        """Per op type: how many read a dequantized int8 tensor (QDQ) and how many float."""
        import onnx

        counts = qdq_counts(onnx.load(str(result.path)))
        lines = [f"{op}: {n_int} int8, {n_float} float" for op, (n_int, n_float) in counts.items()]
        floats = sorted(op for op, (_, n_float) in counts.items() if n_float)
        lines.append(f"float ops: {', '.join(floats)}" if floats else "every compute op is int8")
        return lines

    def load(self, path: Path) -> RunFn:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name

        def run(x: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(session.run(None, {name: x.numpy()})[0])

        return run


def _export(model: nn.Module, example: torch.Tensor, path: Path) -> str:
    """Write fp32 ONNX to ``path``; return a note naming the exporter used."""
    dynamo = importlib.util.find_spec("onnxscript") is not None
    kwargs = dict(
        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=OPSET, verbose=False
    )
    with torch.no_grad():
        if dynamo:  # one file: weights inline, never as external data
            torch.onnx.export(
                model, (example,), str(path), dynamo=True, external_data=False, **kwargs
            )
        else:
            torch.onnx.export(model, (example,), str(path), dynamo=False, **kwargs)
    return f"opset {OPSET}, " + (
        "dynamo exporter" if dynamo else "TorchScript exporter (onnxscript not installed)"
    )


def _to_fp16(proto):
    """fp16 weights and activations; the graph still takes and returns float32 (Cast nodes)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(proto, keep_io_types=True)


class _Reader:
    """onnxruntime CalibrationDataReader over the spec's calibration inputs."""

    def __init__(self, inputs: list[torch.Tensor]) -> None:
        self._items = iter([{INPUT_NAME: x.numpy()} for x in inputs])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def _quantize_int8(src: Path, dst: Path, spec: ExportSpec, tmp: Path) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not spec.calibration:
        raise ExportError("onnx int8 needs calibration images: pass --calib-data SPEC")
    CalibrationDataReader.register(_Reader)
    prepared = tmp / "prepared.onnx"
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
    quantize_static(
        str(prepared),
        str(dst),
        _Reader(spec.calibration),
        quant_format=QuantFormat.QDQ,
        per_channel=spec.per_channel,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def qdq_counts(proto) -> dict[str, tuple[int, int]]:
    """``{"Conv": (n_int8, n_float), …}``: compute ops by whether their data input is QDQ."""
    producers = {out: node.op_type for node in proto.graph.node for out in node.output}
    counts: dict[str, list[int]] = {}
    for node in proto.graph.node:
        if node.op_type in _PLUMBING or not node.input:
            continue
        is_int = producers.get(node.input[0]) == "DequantizeLinear"
        counts.setdefault(node.op_type, [0, 0])[0 if is_int else 1] += 1
    return {op: (n[0], n[1]) for op, n in sorted(counts.items())}


def int8_label(proto) -> tuple[str, str]:
    """("int8" | "int8-mixed", "HardSigmoid×3, …"): ops whose data input is not dequantized."""
    floats = {op: n for op, (_, n) in qdq_counts(proto).items() if n}
    text = ", ".join(f"{op}×{n}" for op, n in sorted(floats.items()))
    return ("int8-mixed" if floats else "int8"), text
