"""ONNX: ``torch.onnx.export`` at opset 18, one self-contained file; INT8 = onnxruntime static QDQ.

The dynamo exporter (``dynamo=True``) needs ``onnxscript``; without it the TorchScript-based
exporter is used and the result says so in its notes. FP16 converts weights and activations with
onnxruntime's ``convert_float_to_float16`` (float32 I/O kept). INT8 first rewrites ops
onnxruntime has no integer kernel for into ones it has (``onnx_int8graph``), runs
``quant_pre_process`` (shape inference + graph optimisation), then ``quantize_static`` in QDQ
format with per-channel weights, calibrated on real images. The label is ``int8`` only when
onnxruntime runs every compute op with an integer kernel (post-processing after the output's
dequantize excepted); otherwise ``int8-mixed`` and the float ops are named in the notes.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgeseg.atomic import scratch_dir
from edgeseg.converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    census_lines,
    op_list,
    register_converter,
)
from edgeseg.converters.onnx_int8graph import describe, rewrite_for_qdq
from edgeseg.errors import ExportError
from edgeseg.quantization import QuantLabel, QuantMode
from edgeseg.runtimes.onnxruntime import inference_session

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "image", "output"
_TAIL_OPS = {"Resize", "ArgMax", "Softmax"}  # may follow the output's dequantize in float
_INT_TYPES = {2, 3, 5, 6, 7}  # onnx.TensorProto UINT8, INT8, INT16, INT32, INT64
# Ops that move or reshape data (or shapes) rather than compute on it.
_PLUMBING = {
    "QuantizeLinear",
    "DequantizeLinear",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Constant",
    "Reshape",
    "Slice",
    "Cast",
    "Identity",
    "Transpose",
    "Flatten",
}


@register_converter
class Onnx(Converter):
    name = "onnx"
    suffix = ".onnx"
    runtime = "onnxruntime"
    quant_modes = (QuantMode.NONE, QuantMode.FP16, QuantMode.INT8)
    # onnxruntime's u8s8 kernels on x86 without VNNI (AVX2, AVX-512F) add pairs of u8×s8
    # products in int16 (vpmaddubsw), which saturates once both weights of a pair pass ±64 next
    # to large activations: fusedseg_s lost 12.7 mIoU that way (agreement 86 %). Weights on the
    # ±64 grid (``reduce_range``) cannot saturate; bias correction absorbs most of the lost bit.
    weight_qmax = 64
    requires = ("onnx", "onnxruntime")
    install_hint = "pip install 'edgeseg[onnx]'"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        import onnx

        started = time.perf_counter()
        notes: list[str] = []
        details: list[str] = []
        label = QuantLabel.FP32
        with scratch_dir("edgeseg-onnx") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            notes.append(_export(model, example, fp32))
            source = fp32
            if spec.quantize == QuantMode.INT8:
                source = Path(tmp) / "int8.onnx"
                rewritten = _quantize_int8(fp32, source, spec, Path(tmp))
                notes += [rewritten] if rewritten else []
                census = kernel_counts(source)  # once: label, notes and --explain
                label, census_notes = int8_label(census)
                notes += census_notes
                details = census.lines()
            proto = onnx.load(str(source))
            if spec.quantize == QuantMode.FP16:
                proto, label = _to_fp16(proto), QuantLabel.FP16
                notes.append("fp16 weights and compute, float32 input/output")
            for key, value in {**spec.metadata, "quantization": label}.items():
                entry = proto.metadata_props.add()
                entry.key = key
                entry.value = value if isinstance(value, str) else json.dumps(value)
            onnx.save_model(proto, str(out_path), save_as_external_data=False)
        seconds = time.perf_counter() - started
        size = out_path.stat().st_size
        return ExportResult(self.name, label, out_path, size, seconds, notes, details=details)

    def explain(self, result: ExportResult) -> list[str]:
        """Per op type onnxruntime executes: how many run in int8, how many in float (an int8
        export has taken this census already; a float one is counted here)."""
        return result.details or kernel_counts(result.path).lines()


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


def _quantize_int8(src: Path, dst: Path, spec: ExportSpec, tmp: Path) -> str:
    """Quantize ``src`` into ``dst``; the note on what was rewritten first ("" when nothing)."""
    import onnx
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
    proto = onnx.load(str(src))
    done = rewrite_for_qdq(proto)  # float islands out: every op gets a QLinear kernel
    rewritten, prepared = tmp / "rewritten.onnx", tmp / "prepared.onnx"
    onnx.save_model(proto, str(rewritten), save_as_external_data=False)
    quant_pre_process(str(rewritten), str(prepared), skip_symbolic_shape=True)
    # the logits' upsampling runs in float on the small dequantized logits: onnxruntime has no
    # int8 linear Resize, so quantizing it only adds a Q/DQ of the full-size output (~4 % here)
    graph = onnx.load(str(prepared)).graph
    tail = [n.name for n in graph.node if n.op_type == "Resize" and n.name in output_tail(graph)]
    quantize_static(
        str(prepared),
        str(dst),
        _Reader(spec.calibration),
        nodes_to_exclude=tail,
        quant_format=QuantFormat.QDQ,
        per_channel=spec.per_channel,
        reduce_range=Onnx.weight_qmax == 64,  # onnxruntime's reduced int8 range is [-64, 64]
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    return describe(done) if done else ""


@dataclass
class KernelCensus:
    """What onnxruntime runs on this host, per op type: ``counts`` = ``{op: (n_int8, n_float)}``;
    ``tail`` = float ops after the output's dequantize (upsampling the logits, argmax), which run
    in float by design and do not make a file ``int8-mixed`` (ExecuTorch's rule too)."""

    counts: dict[str, tuple[int, int]]
    tail: Counter[str]

    def tail_line(self) -> list[str]:
        """The tail by name (none: no line), one wording for the notes and ``--explain``."""
        text = f"float after the output dequantize (by design): {op_list(self.tail)}"
        return [text] if self.tail else []

    def lines(self) -> list[str]:
        """``--explain``: the per-op census, then the tail."""
        return census_lines(self.counts) + self.tail_line()


def kernel_counts(path: Path) -> KernelCensus:
    """The op census of the graph onnxruntime executes, not of the file.

    A QDQ file wraps every op in DequantizeLinear/QuantizeLinear, but onnxruntime fuses only the
    ops it has integer kernels for; the rest run in float between a DQ and a Q (linear Resize
    on purpose: onnxruntime#28414). So the census is taken after onnxruntime's graph
    optimisations (the extended level: QDQ fusion, no host-only layout changes), and an op
    counts as int8 when its data input is an integer tensor.
    """
    import onnx

    with scratch_dir("edgeseg-onnx") as tmp:
        executed = Path(tmp) / "executed.onnx"
        inference_session(path, optimized_to=executed)
        graph = onnx.load(str(executed)).graph
    integer = {v.name: v.type.tensor_type.elem_type in _INT_TYPES for v in graph.input}
    integer |= {t.name: t.data_type in _INT_TYPES for t in graph.initializer}
    tail_nodes = output_tail(graph)
    counts: dict[str, list[int]] = {}
    tail: Counter[str] = Counter()
    for node in graph.node:  # topological order: a node's inputs are known before it
        first = integer.get(node.input[0], False) if node.input else False
        out_int = node.op_type == "QuantizeLinear" or node.op_type.startswith("QLinear")
        integer |= dict.fromkeys(
            node.output, out_int or (first and node.op_type != "DequantizeLinear")
        )
        if node.op_type in _PLUMBING or not node.input:
            continue
        if not first and node.name in tail_nodes:
            tail[node.op_type] += 1
        else:
            counts.setdefault(node.op_type, [0, 0])[0 if first else 1] += 1
    return KernelCensus({op: (n[0], n[1]) for op, n in sorted(counts.items())}, tail)


def output_tail(graph) -> set[str]:
    """Names of the nodes that only post-process the output: Resize/ArgMax/Softmax and plumbing
    whose every consumer is a graph output or another such node."""
    outputs = {v.name for v in graph.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    tail: set[str] = set()
    for node in reversed(graph.node):
        if node.op_type not in _TAIL_OPS and node.op_type not in _PLUMBING:
            continue
        users = [u for out in node.output for u in consumers.get(out, [])]
        feeds_output = any(out in outputs for out in node.output)
        if (users or feeds_output) and all(u.name in tail for u in users):
            tail.add(node.name)
    return tail


def int8_label(census: KernelCensus) -> tuple[QuantLabel, list[str]]:
    """("int8" | "int8-mixed", notes): the ops onnxruntime runs in float here, by name."""
    floats = op_list({op: n for op, (_, n) in census.counts.items()})
    notes = [f"float ops: {floats}"] if floats else []
    return (QuantLabel.INT8_MIXED if floats else QuantLabel.INT8), notes + census.tail_line()
