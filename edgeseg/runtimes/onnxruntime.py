"""ONNX Runtime: CPU execution provider, ``intra_op_num_threads`` = the thread count.

Metadata comes from the file itself when edgeseg wrote it (``metadata_props``, one JSON value per
sidecar key). A protobuf has no magic bytes: onnxruntime itself decides whether a file is ONNX,
and its refusal becomes an :class:`~edgeseg.runtimes.errors.ArtifactLoadError`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError
from edgeseg.runtimes.scores import NAMED, Producer, ScoresTensor, find_scores, named_tensor

_DTYPES = {
    "tensor(float)": "float32",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(float16)": "float16",
}


@register_runtime
class Onnxruntime(Runtime):
    name = "onnxruntime"
    format_name = "onnx"
    formats = (".onnx",)
    requires = ("onnxruntime",)
    install_hint = "pip install 'edgeseg[onnx]'"
    hint = "pass an .onnx written by edgeseg export --target onnx or torch.onnx.export"

    def check_file(self, path: Path) -> None:
        if not path.is_file():
            raise ArtifactLoadError(f"{path}: no such file")

    def open(self, path: Path, threads: int) -> Session:
        return _session(path, inference_session(path, threads))

    def open_scores(self, path: Path, threads: int, tensor: str | None) -> Session:
        """The graph with its outputs replaced by the scores tensor, opened from memory."""
        content, note = _with_scores_output(path, tensor)
        session = _session(path, inference_session(path, threads, content=content))
        session.notes.append(note)
        return session


def _session(path: Path, session) -> Session:
    inputs, output = session.get_inputs(), session.get_outputs()[0]
    if len(inputs) != 1:
        raise ArtifactLoadError(
            f"{path.name} has {len(inputs)} inputs; edgeseg runs one-image models (one input)"
        )
    name = inputs[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run([output.name], {name: x})[0]

    meta = _embedded(session.get_modelmeta().custom_metadata_map)
    return Session(run, _info(inputs[0]), _info(output), meta=meta, handle=session)


def inference_session(
    path: Path, threads: int = 1, optimized_to: Path | None = None, content: bytes | None = None
):
    """onnxruntime's CPU session, as every edgeseg caller opens it; ``optimized_to``: also write
    the graph onnxruntime will execute (extended optimisations: QDQ fusion, no host-only layout
    changes) there — what the ONNX converter's int8 census reads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if optimized_to is not None:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimized_to)
    source = content if content is not None else str(path)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _with_scores_output(path: Path, tensor: str | None) -> tuple[bytes, str]:
    """The model with its graph outputs set to the scores tensor (shape inference supplies its
    type), and a note saying which tensor that is (:mod:`edgeseg.runtimes.scores`)."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    producers = {out: Producer(n.op_type, tuple(n.input)) for n in graph.node for out in n.output}
    if tensor is not None:
        names = [i.name for i in graph.input] + list(producers)
        candidates = [n for n in producers if n]
        found = ScoresTensor(names[named_tensor(tensor, names, path.name, candidates)], NAMED)
    else:
        found = find_scores(graph.output[0].name, producers)
    name = str(found.tensor)
    if name != graph.output[0].name:
        known = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
        value = known.get(name) or onnx.helper.make_tensor_value_info(
            name, onnx.TensorProto.FLOAT, None
        )
        del graph.output[:]
        graph.output.append(value)
    return model.SerializeToString(), found.note(name)


def _info(arg) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else -1 for d in arg.shape)
    dtype = _DTYPES.get(arg.type)
    if dtype is None:
        raise ArtifactLoadError(
            f"ONNX tensor '{arg.name}' has type {arg.type}, which edgeseg cannot feed"
        )
    return TensorInfo(shape, dtype)


def _embedded(props: dict[str, str]) -> dict | None:
    """edgeseg's export writes each sidecar key as a JSON value (strings as they are)."""
    if "classes" not in props:
        return None
    meta = {}
    for key, value in props.items():
        try:
            meta[key] = json.loads(value)
        except json.JSONDecodeError:
            meta[key] = value
    return meta
