"""Multiply-accumulates of one inference, counted from the artifact: a measurement, so the
bench's, per runtime (:mod:`edgeseg.runtimes` only opens and runs files).

Each counter reads the graph the runtime would run: torch's FLOP counter over one forward of the
loaded module (checkpoint, TorchScript), Conv/ConvTranspose/Gemm/MatMul shapes after ONNX shape
inference (QDQ int8 graphs keep their float Conv nodes, so they count alike), and TFLite's
conv/depthwise/transpose-conv/fully-connected shapes read with delegates off so the ops stay
visible. A format with no counter (a ``.pte``) borrows a sibling row's count in the roofline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeseg.runtimes import Session, TensorInfo


@dataclass(frozen=True)
class MacCounter:
    count: Callable[[Path, Session], int]
    method: str  # how it counts, said in the report (``macs_method``)


def torch_macs(artifact: Path, session: Session) -> int:
    """torch's FLOP counter over one forward of the loaded module; a MAC is two FLOPs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    info: TensorInfo = session.input
    x = torch.zeros(info.shape, dtype=getattr(torch, info.dtype))
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        session.handle(x)
    return counter.get_total_flops() // 2


def onnx_macs(artifact: Path, session: Session) -> int:
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(artifact)))
    shapes = {
        v.name: _dims(v) for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]
    }
    shapes.update({t.name: tuple(t.dims) for t in model.graph.initializer})
    return sum(_node_macs(n, shapes) for n in model.graph.node)


def _node_macs(node, shapes: dict[str, tuple[int, ...]]) -> int:
    ins = [shapes.get(i, ()) for i in node.input]
    out = shapes.get(node.output[0], ()) if node.output else ()
    if any(d <= 0 for d in out) or len(ins) < 2 or any(d <= 0 for d in ins[1]):
        return 0
    elems = int(np.prod(out)) if out else 0
    attrs = {a.name: a for a in node.attribute}
    if node.op_type == "Conv" and len(ins[1]) >= 3:  # weight [Cout, Cin/group, k...]: groups in
        return elems * int(np.prod(ins[1][1:]))
    if node.op_type == "ConvTranspose" and len(ins[1]) >= 3:  # weight [Cin, Cout/group, k...]
        return int(np.prod(ins[0])) * int(np.prod(ins[1][1:])) if ins[0] else 0
    if node.op_type in ("Gemm", "MatMul") and ins[0]:
        transposed = node.op_type == "Gemm" and "transA" in attrs and attrs["transA"].i
        k = ins[0][-2] if transposed else ins[0][-1]
        return elems * k
    return 0


def _dims(value) -> tuple[int, ...]:
    dims = value.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)


def tflite_macs(artifact: Path, session: Session) -> int:
    from edgeseg.runtimes.tflite import interpreter_for

    interpreter = interpreter_for(artifact, 1, delegates=False)
    shapes = {
        t["index"]: tuple(int(d) for d in t["shape"]) for t in interpreter.get_tensor_details()
    }
    total = 0
    for op in interpreter._get_ops_details():  # the Interpreter's only per-op view
        ins, outs = [int(i) for i in op["inputs"]], [int(o) for o in op["outputs"]]
        total += _op_macs(
            op["op_name"],
            [shapes.get(i, ()) for i in ins],
            shapes.get(outs[0], ()) if outs else (),
        )
    return total


def _op_macs(op: str, inputs: list[tuple[int, ...]], out: tuple[int, ...]) -> int:
    """MACs of one op from its tensor shapes (TFLite weights: OHWI, depthwise 1HWC)."""
    elems = int(np.prod(out)) if out else 0
    if op == "CONV_2D" and len(inputs) > 1 and len(inputs[1]) == 4:
        _, kh, kw, cin = inputs[1]
        return elems * kh * kw * cin
    if op == "DEPTHWISE_CONV_2D" and len(inputs) > 1 and len(inputs[1]) == 4:
        return elems * inputs[1][1] * inputs[1][2]
    if op == "TRANSPOSE_CONV" and len(inputs) > 1 and len(inputs[1]) == 4:
        cout, kh, kw, cin = inputs[1]
        return int(np.prod(inputs[2])) * kh * kw * cout if len(inputs) > 2 else 0
    if op == "FULLY_CONNECTED" and len(inputs) > 1 and len(inputs[1]) == 2:
        return elems * inputs[1][1]
    return 0


_TORCH = MacCounter(torch_macs, "torch FLOP counter on one forward / 2")
COUNTERS: dict[str, MacCounter] = {
    "pytorch": _TORCH,
    "torchscript": _TORCH,
    "onnxruntime": MacCounter(
        onnx_macs, "ONNX graph: Conv/ConvTranspose/Gemm/MatMul shapes after shape inference"
    ),
    "tflite": MacCounter(
        tflite_macs, "TFLite graph: conv/depthwise/transpose-conv/fully-connected shapes"
    ),
}
"""Runtime name → its MAC counter; a runtime not here cannot count (``count_macs`` → None)."""
