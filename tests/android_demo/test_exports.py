"""Golden cases from real edgeseg exports, and the sidecar keys the app reads vs those written.

The ONNX artifacts are exported here from a real (untrained) CamVid checkpoint and run in
onnxruntime, so the logits → mask path is checked on real runtime output, not synthetic arrays.
"""

from __future__ import annotations

import inspect
import os
import re

import numpy as np
import pytest

from edgeseg import contract
from edgeseg.export import export_checkpoint
from tests.android_demo import golden
from tests.android_demo.conftest import CORE_SRC, outcomes, run_java

SIZE = (64, 80)
METADATA_JAVA = CORE_SRC / "main/java/dev/edgeseg/core/ModelMetadata.java"
# first string argument of the accessors ModelMetadata reads the sidecar through
READ_CALL = re.compile(r"\b(?:has|get|string|optString|choice|list|object|norm|quant)"
                       r"\(\s*(?:f,\s*)?\"([a-z_]+)\"")
SLOW = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="slow: set EDGESEG_SLOW=1")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real CamVid-shaped checkpoint (11 classes, ImageNet mean/std); weights untrained."""
    from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
    from edgeseg.data.camvid import CAMVID_CLASSES, CAMVID_PALETTE
    from edgeseg.models import create_model

    arch = "lraspp_mobilenet_v3_small"
    meta = CheckpointMeta(
        arch, len(CAMVID_CLASSES), list(CAMVID_CLASSES), [list(c) for c in CAMVID_PALETTE],
        [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], list(SIZE), dataset="sample",
    )
    out = tmp_path_factory.mktemp("android_ckpt")
    return save_checkpoint(out / "best.pt", create_model(arch, num_classes=11), meta)


def _export(checkpoint, out, **kw):
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    (outcome,) = export_checkpoint(checkpoint, "onnx", out=out, parity_images=0, **kw)
    assert outcome.ok, outcome.parity.reason
    return outcome.result.path


@pytest.fixture(scope="module")
def onnx_fp32(checkpoint, tmp_path_factory):
    return _export(checkpoint, tmp_path_factory.mktemp("android_onnx"))


def _golden_from_artifact(java_core, artifact, tmp_path, image) -> None:
    """Run ``artifact`` in onnxruntime on the contract's input; Java must read it alike."""
    import onnxruntime as ort

    meta = contract.read_sidecar(artifact)
    c = contract.parse_meta(meta)
    session = ort.InferenceSession(str(artifact), providers=["CPUExecutionProvider"])
    x = contract.preprocess(image, c)
    (output,) = session.run(None, {session.get_inputs()[0].name: x})
    c.check_output(output.shape, output.dtype.name)  # the real tensor fits the real sidecar
    writer = golden.GoldenWriter(tmp_path / "golden")
    writer.case("real-export", artifact.name, meta, "picture", image, output, 0.5)
    writer.write_manifest()
    proc = run_java(java_core, "GoldenTests", str(writer.root))
    assert outcomes(proc.stdout) == {"real-export": "ok"}, proc.stdout + proc.stderr
    assert proc.returncode == 0


def _picture(request) -> np.ndarray:
    try:
        camvid = request.getfixturevalue("camvid_dir")
    except pytest.skip.Exception:
        return golden.synthetic_image()
    return golden.load_rgb(sorted((camvid / "val").glob("*.png"))[0])


@SLOW
def test_real_onnx_logits_read_alike(java_core, onnx_fp32, tmp_path, request) -> None:
    _golden_from_artifact(java_core, onnx_fp32, tmp_path, _picture(request))


@SLOW
def test_real_onnx_uint8_mask_read_alike(java_core, checkpoint, tmp_path, request) -> None:
    artifact = _export(checkpoint, tmp_path / "u8", input_dtype="uint8", output="mask")
    assert contract.read_sidecar(artifact)["mean"] == "in-graph"
    _golden_from_artifact(java_core, artifact, tmp_path, _picture(request))


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    return set()


def _tflite_with_min_runtime(path):
    """A TFLite flatbuffer holding only the ``min_runtime_version`` metadata converters write."""
    flatbuffers = pytest.importorskip("flatbuffers")
    schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
    model = schema.ModelT()
    model.version, model.subgraphs, model.operatorCodes = 3, [], []
    data = schema.BufferT()
    data.data = list(b"2.3.0\0\0\0")
    model.buffers = [schema.BufferT(), data]
    entry = schema.MetadataT()
    entry.name, entry.buffer = "min_runtime_version", 1
    model.metadata = [entry]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(builder.Output())
    return path


def test_every_key_the_app_reads_is_one_edgeseg_writes(checkpoint, request, tmp_path) -> None:
    """Scan the Java sidecar reader for keys; each must be one edgeseg's export writes."""
    from edgeseg.converters.base import ExportSpec
    from edgeseg.checkpoint import load_checkpoint
    from edgeseg.export import artifact_metadata

    read = set(READ_CALL.findall(METADATA_JAVA.read_text()))
    core = {"classes", "palette", "input_size", "layout", "mean", "std", "input_dtype",
            "input_quantization", "scale", "zero_point", "output", "output_dtype"}
    assert core <= read, f"the scan missed keys the reader must read: {core - read}"
    meta = load_checkpoint(checkpoint).meta
    written: set[str] = set()
    for input_dtype, output in (("float", "logits"), ("uint8", "mask")):
        spec = ExportSpec(size=SIZE, input_dtype=input_dtype, output=output)
        written |= _keys(artifact_metadata(meta, spec, checkpoint))
    # int8 I/O fields come from edgeseg.converters.tflite.quantized_io on real TFLite files: the Coral
    # model's uint8 input is quantised (input_quantization: scale, zero_point)
    tflite = pytest.importorskip("edgeseg.converters.tflite")
    models = request.getfixturevalue("shared_dir") / "models"
    written |= _keys(tflite.quantized_io(models / "deeplabv3_mnv2_pascal_quant.tflite"))
    # no export quantises its output today (PT2E leaves it float): check quantized_io writes
    # output_quantization for output tensors the same way it does for inputs
    source = inspect.getsource(tflite.quantized_io)
    if '("output", ' in source and 'f"{kind}_quantization"' in source:
        written.add("output_quantization")
    # runtime_version comes from export (the runtime that verified the file), as written here
    from edgeseg.runtimes.versions import runtime_version

    onnx = pytest.importorskip("onnx")
    identity = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    model = onnx.helper.make_model(identity, opset_imports=[onnx.helper.make_opsetid("", 18)])
    onnx.save(model, tmp_path / "m.onnx")
    record = runtime_version("onnxruntime", tmp_path / "m.onnx")
    assert record and record["opset"] == 18, record
    written |= {"runtime_version"} | set(record)
    tflite_file = _tflite_with_min_runtime(tmp_path / "m.tflite")
    written |= set(runtime_version("tflite", tflite_file) or {})
    assert read - written == set(), f"the app reads keys edgeseg never writes: {read - written}"


@SLOW
def test_real_export_sidecar_has_every_key_artifact_metadata_gives(onnx_fp32, checkpoint) -> None:
    from edgeseg.converters.base import ExportSpec
    from edgeseg.checkpoint import load_checkpoint
    from edgeseg.export import artifact_metadata

    written = contract.read_sidecar(onnx_fp32)
    expected = artifact_metadata(load_checkpoint(checkpoint).meta, ExportSpec(size=SIZE),
                                 checkpoint)
    assert set(expected) <= set(written)
    expected.pop("quantization")  # the export replaces "none" with its honest label ("fp32")
    assert {k: written[k] for k in expected} == expected and written["quantization"] == "fp32"
