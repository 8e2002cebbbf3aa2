"""LiteRT (TFLite): ``ai_edge_litert``'s Interpreter with XNNPACK and a thread count.

The default op resolver applies the XNNPACK delegate, as the phone's ``benchmark_model
--use_xnnpack=true`` does. MACs are counted from the graph itself (conv, depthwise conv,
transpose conv and fully-connected shapes), read with delegates off so the ops stay visible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeseg.benchmarks.base import BenchError, register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo, quant_of, read_magic
from edgeseg.quantization import QuantLabel

_QUANT_DTYPES = (np.int8, np.uint8, np.int16)


@register_runner
class Tflite(HostRunner):
    name = "tflite"
    formats = (".tflite",)
    requires = ("ai_edge_litert",)
    install_hint = "pip install 'edgeseg[tflite]'"
    macs_method = "TFLite graph: conv/depthwise/transpose-conv/fully-connected shapes"

    def check_file(self, artifact: Path) -> None:
        head = read_magic(artifact, 8)
        if head[4:8] != b"TFL3":
            raise BenchError(
                f"{artifact.name} is not a TFLite flatbuffer (no 'TFL3' identifier); "
                "pass a .tflite written by a TFLite/LiteRT converter"
            )

    def load(self, artifact: Path, threads: int) -> Session:
        interpreter = _interpreter(artifact, threads, delegates=True)
        inp, out = interpreter.get_input_details(), interpreter.get_output_details()
        if len(inp) != 1:
            raise BenchError(
                f"{artifact.name} has {len(inp)} inputs; edgeseg benches one-image "
                "models (one input)"
            )
        i_index, o_index = inp[0]["index"], out[0]["index"]

        def run(x: np.ndarray) -> np.ndarray:
            interpreter.set_tensor(i_index, x)
            interpreter.invoke()
            return interpreter.get_tensor(o_index).copy()

        return Session(
            run, _info(inp[0]), _info(out[0]), quantization=_label(interpreter), handle=interpreter
        )

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        interpreter = _interpreter(artifact, 1, delegates=False)
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


def _interpreter(artifact: Path, threads: int, delegates: bool):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = (
        OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter = Interpreter(
        model_path=str(artifact), num_threads=threads, experimental_op_resolver_type=resolver
    )
    interpreter.allocate_tensors()
    return interpreter


def _info(detail: dict) -> TensorInfo:
    shape = tuple(int(d) for d in detail.get("shape_signature", detail["shape"]))
    scale, zero = detail["quantization"]
    return TensorInfo(shape, np.dtype(detail["dtype"]).name, quant_of(scale, zero))


def _label(interpreter) -> QuantLabel:
    """int8 when any constant (weight) tensor is quantised, else the input's float width."""
    for t in interpreter.get_tensor_details():
        if t["dtype"] in _QUANT_DTYPES and t["quantization"][0] and len(t["shape"]) >= 2:
            return QuantLabel.INT8
    dtype = np.dtype(interpreter.get_input_details()[0]["dtype"])
    return QuantLabel.FP16 if dtype == np.float16 else QuantLabel.FP32
