"""Issue 4's options per target: fp16, NHWC I/O, per-tensor int8, Core ML W8A8 (uint8-in/mask-out:
test_targets.py, every target; --explain: test_cli.py). Each exports the tiny session checkpoint
and checks the artifact itself (its tensors, scales, ops), not only the label the converter
printed."""

from __future__ import annotations

import numpy as np
import pytest

from edgeseg import contract
from edgeseg.converters.parity import THRESHOLDS
from edgeseg.export import export_checkpoint
from tests.converters.conftest import SIZE, assert_sidecar, sidecar
from tests.converters.test_cli import assert_one_line, run_cli
from tests.converters.test_targets import SLOW, export_one, shared_one


def _tflite_tensors(path) -> tuple[list[dict], dict, dict]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return (
        interpreter.get_tensor_details(),
        interpreter.get_input_details()[0],
        interpreter.get_output_details()[0],
    )


def outcome_run(path, x: np.ndarray) -> np.ndarray:
    from edgeseg import runtimes

    return runtimes.load(path, runtime="tflite").run_float(x)


def test_executorch_fp16_is_delegated_with_float32_io(checkpoint, tmp_path) -> None:
    outcome = export_one(checkpoint, tmp_path, "executorch", "fp16", explain=True)
    r = outcome.result
    assert r.quantize == "fp16" and r.path.name == "lraspp_mobilenet_v3_small_xnnpack_fp16.pte"
    assert outcome.parity.agreement >= THRESHOLDS["fp16"]
    assert 0 < outcome.parity.max_abs_diff < 0.5  # fp16 rounding shows, but small
    assert "every compute op is delegated" in outcome.explain, outcome.explain
    assert any("fp16 compute" in n for n in r.notes)
    assert outcome.explain[0].startswith("XNNPACK partitions: 1,"), outcome.explain  # no islands
    assert_sidecar(r.path, quantization="fp16")


@SLOW
def test_tflite_fp16_weights_and_float32_io(checkpoint, tmp_path) -> None:
    outcome = export_one(checkpoint, tmp_path, "tflite", "fp16")
    assert outcome.result.quantize == "fp16-weights"
    assert outcome.parity.agreement >= THRESHOLDS["fp16"]
    tensors, inp, out = _tflite_tensors(outcome.result.path)
    assert inp["dtype"] == np.float32 and out["dtype"] == np.float32
    assert any(t["dtype"] == np.float16 for t in tensors)


@SLOW
def test_tflite_nhwc_io_and_parity(checkpoint, tmp_path) -> None:
    outcome = export_one(checkpoint, tmp_path, "tflite", layout="nhwc")
    path = outcome.result.path
    assert path.name.endswith("_fp32_nhwc.tflite")
    assert outcome.parity.status == "passed" and outcome.parity.max_abs_diff < 1e-3
    _, inp, out = _tflite_tensors(path)
    assert list(inp["shape"]) == [1, *SIZE, 3] and list(out["shape"])[:3] == [1, *SIZE]
    meta = contract.read_sidecar(path)
    assert meta["layout"] == "NHWC" and contract.parse_meta(meta).layout == "NHWC"
    image = np.random.default_rng(0).integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    x = contract.preprocess(image, meta)  # what a phone app feeds, from the sidecar alone
    assert x.shape == (1, *SIZE, 3)
    mask = contract.postprocess(outcome_run(path, x), meta)
    assert mask.shape == SIZE


def test_nhwc_refused_by_a_target_that_cannot(capsys, checkpoint, tmp_path) -> None:
    code, _, err = run_cli(
        capsys, checkpoint, "--target", "onnx", "--layout", "nhwc", "--out", tmp_path
    )
    assert_one_line(code, err, "onnx", "--layout nhwc", "tflite")
    code, _, err = run_cli(capsys, checkpoint, "--target", "tflite", "--layout", "nchwx")
    assert_one_line(code, err, "layout", "nchwx")


def test_onnx_per_tensor_weight_scales(checkpoint, shared_export, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    def weight_scales(outcome) -> list[int]:
        proto = onnx.load(str(outcome.result.path))
        inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
        convs = {n.input[1] for n in proto.graph.node if n.op_type == "Conv"}
        return [
            inits[n.input[1]].size
            for n in proto.graph.node
            if n.op_type == "DequantizeLinear" and n.output[0] in convs
        ]

    per_tensor = weight_scales(export_one(checkpoint, tmp_path, "onnx", "int8", per_channel=False))
    assert per_tensor and set(per_tensor) == {1}
    assert max(weight_scales(shared_one(shared_export, "onnx", "int8"))) > 1  # per-channel default


@SLOW
def test_tflite_per_tensor_weight_scales(checkpoint, tmp_path) -> None:
    outcome = export_one(checkpoint, tmp_path, "tflite", "int8", per_channel=False)
    assert outcome.parity.agreement >= THRESHOLDS["int8"]
    tensors, _, _ = _tflite_tensors(outcome.result.path)
    weights = [
        t
        for t in tensors
        if t["dtype"] == np.int8
        and len(t["shape"]) == 4
        and len(t["quantization_parameters"]["scales"]) > 0
    ]
    const = [t for t in weights if t["shape"][0] != 1 or t["name"].count("weight")]
    assert const and all(len(t["quantization_parameters"]["scales"]) == 1 for t in weights)


@SLOW
def test_coreml_int8_is_w8a8(checkpoint, tmp_path) -> None:
    ct = pytest.importorskip("coremltools", reason="coremltools not installed")
    (outcome,) = export_checkpoint(
        checkpoint, "coreml", "int8", out=tmp_path, parity_images=1, calib_images=2, explain=True
    )
    assert outcome.ok, outcome.parity.reason
    r = outcome.result
    assert r.quantize in ("int8", "int8-mixed"), r.notes  # activations quantized, or it says why
    assert any(n.startswith("W8A8: activations calibrated") for n in r.notes), r.notes
    assert outcome.parity.status == "skipped" and "macOS" in outcome.parity.reason
    spec = ct.models.MLModel(str(r.path), skip_model_load=True).get_spec()
    ops = {
        op.type
        for fn in spec.mlProgram.functions.values()
        for block in fn.block_specializations.values()
        for op in block.operations
    }
    assert {"quantize", "dequantize"} <= ops and "constexpr_affine_dequantize" in ops
    assert sidecar(r.path)["quantization"] == r.quantize
    assert any(line.startswith("conv: ") for line in outcome.explain), outcome.explain
