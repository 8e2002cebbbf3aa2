"""ONNX Runtime: CPU execution provider, ``intra_op_num_threads`` = the thread count.

Metadata comes from the file itself when edgeseg wrote it (``metadata_props``, one JSON value per
sidecar key). MACs are counted from the graph: Conv/ConvTranspose/Gemm/MatMul with the shapes
ONNX shape inference gives (QDQ int8 graphs keep their float Conv nodes, so they count alike).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgeseg.benchmarks.base import BenchError, register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo

_DTYPES = {
    "tensor(float)": "float32",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(float16)": "float16",
}


@register_runner
class Onnxruntime(HostRunner):
    name = "onnxruntime"
    formats = (".onnx",)
    requires = ("onnxruntime",)
    install_hint = "pip install 'edgeseg[onnx]'"
    macs_method = "ONNX graph: Conv/ConvTranspose/Gemm/MatMul shapes after shape inference"

    def check_file(self, artifact: Path) -> None:
        if not artifact.is_file():
            raise BenchError(f"{artifact}: no such file")  # protobuf has no magic: ORT decides

    def load(self, artifact: Path, threads: int) -> Session:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
        inputs, output = session.get_inputs(), session.get_outputs()[0]
        if len(inputs) != 1:
            raise BenchError(
                f"{artifact.name} has {len(inputs)} inputs; edgeseg benches "
                "one-image models (one input)"
            )
        name = inputs[0].name

        def run(x: np.ndarray) -> np.ndarray:
            return session.run([output.name], {name: x})[0]

        meta = _embedded(session.get_modelmeta().custom_metadata_map)
        return Session(run, _info(inputs[0]), _info(output), meta=meta, handle=session)

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        import onnx

        model = onnx.shape_inference.infer_shapes(onnx.load(str(artifact)))
        shapes = {
            v.name: _dims(v)
            for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]
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


def _info(arg) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else -1 for d in arg.shape)
    dtype = _DTYPES.get(arg.type)
    if dtype is None:
        raise BenchError(f"ONNX tensor '{arg.name}' has type {arg.type}, which edgeseg cannot feed")
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
