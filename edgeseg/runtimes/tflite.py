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
from edgeseg.runtimes.scores import NAMED, Producer, ScoresTensor, find_scores, named_tensor
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
        return _session(path, interpreter_for(path, threads, delegates=True))

    def open_scores(self, path: Path, threads: int, tensor: str | None) -> Session:
        """The file with its subgraph's outputs rewritten to the scores tensor, opened from
        memory: XNNPACK still runs the whole graph (no preserve-all-tensors slowdown)."""
        content, note = _with_scores_output(path, tensor)
        session = _session(path, interpreter_for(path, threads, delegates=True, content=content))
        session.notes.append(note)
        return session


def _session(path: Path, interpreter) -> Session:
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


def interpreter_for(path: Path, threads: int, delegates: bool, content: bytes | None = None):
    """An allocated Interpreter; ``delegates=False`` keeps the ops visible (no XNNPACK rewrite);
    ``content``: the model's bytes (a rewritten ``path``) instead of the file."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = (
        OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    source = {"model_content": content} if content is not None else {"model_path": str(path)}
    interpreter = Interpreter(**source, num_threads=threads, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    return interpreter


def _with_scores_output(path: Path, tensor: str | None) -> tuple[bytes, str]:
    """The flatbuffer with subgraph 0's outputs set to the scores tensor, and a note saying
    which tensor that is (:mod:`edgeseg.runtimes.scores`)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(path.read_bytes(), 0))
    graph = model.subgraphs[0]
    names = [t.name.decode() if isinstance(t.name, bytes) else str(t.name) for t in graph.tensors]
    if tensor is not None:
        candidates = [n for n, t in zip(names, graph.tensors, strict=True) if len(t.shape) == 4]
        index = named_tensor(tensor, names, path.name, candidates)
        found = ScoresTensor(index, NAMED)
    else:
        ops = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
        producers = {}
        for op in graph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            kind = ops.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")
            for out in op.outputs:
                producers[int(out)] = Producer(kind, tuple(int(i) for i in op.inputs))
        found = find_scores(int(graph.outputs[0]), producers)
    graph.outputs = [int(found.tensor)]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), found.note(names[int(found.tensor)])


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
