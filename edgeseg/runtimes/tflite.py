"""LiteRT (TFLite): ``ai_edge_litert``'s Interpreter with XNNPACK and a thread count.

The default op resolver applies the XNNPACK delegate, as the phone's ``benchmark_model
--use_xnnpack=true`` does. Tensors carry their quantization (scale, zero point), so a caller
that feeds floats can use :meth:`~edgeseg.runtimes.base.Session.run_float` on an int8-I/O file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeseg.quantization import QuantLabel
from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError, read_magic
from edgeseg.sidecar import Quant

_QUANT_DTYPES = (np.int8, np.uint8, np.int16)


@register_runtime
class Tflite(Runtime):
    name = "tflite"
    formats = (".tflite",)
    requires = ("ai_edge_litert",)
    install_hint = "pip install 'edgeseg[tflite]'"
    hint = "pass a .tflite written by a TFLite/LiteRT converter"

    def check_file(self, path: Path) -> None:
        if read_magic(path, 8)[4:8] != b"TFL3":
            raise ArtifactLoadError(
                f"{path.name} is not a TFLite flatbuffer (no 'TFL3' identifier); {self.hint}"
            )

    def open(self, path: Path, threads: int) -> Session:
        interpreter = interpreter_for(path, threads, delegates=True)
        inp, out = interpreter.get_input_details(), interpreter.get_output_details()
        if len(inp) != 1:
            raise ArtifactLoadError(
                f"{path.name} has {len(inp)} inputs; edgeseg runs one-image models (one input)"
            )
        i_index, o_index = inp[0]["index"], out[0]["index"]

        def run(x: np.ndarray) -> np.ndarray:
            interpreter.set_tensor(i_index, x)
            interpreter.invoke()
            return interpreter.get_tensor(o_index).copy()

        return Session(
            run, _info(inp[0]), _info(out[0]), quantization=_label(interpreter), handle=interpreter
        )


def interpreter_for(path: Path, threads: int, delegates: bool):
    """An allocated Interpreter; ``delegates=False`` keeps the ops visible (no XNNPACK rewrite)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = (
        OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter = Interpreter(
        model_path=str(path), num_threads=threads, experimental_op_resolver_type=resolver
    )
    interpreter.allocate_tensors()
    return interpreter


def _info(detail: dict) -> TensorInfo:
    shape = tuple(int(d) for d in detail.get("shape_signature", detail["shape"]))
    scale, zero = detail["quantization"]
    quant = Quant(float(scale), int(zero)) if scale else None  # scale 0: not quantised
    return TensorInfo(shape, np.dtype(detail["dtype"]).name, quant)


def _label(interpreter) -> QuantLabel:
    """int8 when any constant (weight) tensor is quantised, else the input's float width."""
    for t in interpreter.get_tensor_details():
        if t["dtype"] in _QUANT_DTYPES and t["quantization"][0] and len(t["shape"]) >= 2:
            return QuantLabel.INT8
    dtype = np.dtype(interpreter.get_input_details()[0]["dtype"])
    return QuantLabel.FP16 if dtype == np.float16 else QuantLabel.FP32
