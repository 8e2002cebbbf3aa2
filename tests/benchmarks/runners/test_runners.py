"""Every host runner on a real artifact of its format: timings, labels, MACs, and the same mIoU
as the eager checkpoint it was exported from (the contract feeds every runtime alike)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import edgeseg.benchmarks.runners  # noqa: F401  (register)
from edgeseg.benchmarks.base import BenchError, get_runner, runner_for, runner_names
from edgeseg.benchmarks.measure import measure
from edgeseg.benchmarks.options import AccuracyOptions, RunRequest, TimingOptions
from tests.benchmarks.conftest import random_file

SPEC = TimingOptions(warmup=1, runs=3)
SAMPLE = ("background", "disc", "box", "triangle", "ring")


def job(timing: TimingOptions = SPEC) -> RunRequest:
    accuracy = AccuracyOptions(data="sample", images=3)
    return RunRequest(timing=timing, accuracy=accuracy, data_classes=SAMPLE, macs=True)


def assert_timed(result) -> None:
    lat = result.latency
    assert result.status == "ok" and lat.runs == 3
    assert 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms <= lat.max_ms and lat.std_ms >= 0
    assert result.load_ms > 0 and result.first_ms > 0 and result.peak_rss_mb > 10
    assert result.file_bytes == Path(result.artifact).stat().st_size


def test_formats_and_content_dispatch(bench_checkpoint, exports, tmp_path) -> None:
    assert {"pytorch", "torchscript", "executorch", "onnxruntime", "tflite", "coreml"} <= set(
        runner_names("host")
    )
    assert runner_for(bench_checkpoint).name == "pytorch"  # a .pt: content decides
    assert runner_for(exports["torchscript"]).name == "torchscript"
    with pytest.raises(BenchError, match="no host runner recognises it.*not a PyTorch zip"):
        runner_for(random_file(tmp_path, "junk.pt"))


def test_same_miou_in_every_format(bench_checkpoint, exports) -> None:
    """Eager, TorchScript and ONNX of one checkpoint: same masks, same mIoU, same MACs."""
    rows = {}
    for name, path in (
        ("pytorch", bench_checkpoint),
        ("torchscript", exports["torchscript"]),
        ("onnxruntime", exports["onnx"]),
    ):
        rows[name] = measure(get_runner(name), path, job())
        assert_timed(rows[name])
        assert rows[name].quantization == "fp32" and rows[name].images == 3
    mious = {n: r.miou for n, r in rows.items()}
    assert all(m is not None for m in mious.values())
    assert max(mious.values()) - min(mious.values()) < 1e-3, mious
    macs = {n: r.extra["macs"] for n, r in rows.items()}
    assert len(set(macs.values())) == 1 and macs["onnxruntime"] > 1e6, macs  # 2 counters agree
    assert rows["onnxruntime"].extra["feed"] == "sidecar"
    assert rows["pytorch"].extra["origin"] == rows["onnxruntime"].extra["origin"]


def test_onnx_int8_label_and_threads(exports) -> None:
    result = measure(get_runner("onnxruntime"), exports["onnx-int8"], job(TimingOptions(1, 3, 2)))
    assert_timed(result)
    assert result.quantization == "int8-mixed"  # the sidecar's label: onnxruntime's Resize is float
    assert result.extra["threads"] == 2
    assert 0 <= result.miou <= 1


def test_executorch_program(pte) -> None:
    result = measure(get_runner("executorch"), pte, RunRequest(timing=SPEC))
    assert_timed(result)
    assert result.extra["feed"] == "sidecar" and result.miou is None


def test_tflite_foreign_model(shared_dir) -> None:
    model = shared_dir / "models" / "deeplabv3_257_mv_gpu.tflite"
    result = measure(get_runner("tflite"), model, RunRequest(timing=SPEC, macs=True))
    assert_timed(result)
    assert result.quantization == "fp32" and result.extra["feed"] == "tensors"
    assert any("known model: Google DeepLabV3" in n for n in result.extra["notes"])
    assert 0.5e9 < result.extra["macs"] < 2e9  # DeepLabV3-MNv2 at 257²: about 0.7 GMACs


@pytest.mark.parametrize(
    "name,suffix,why",
    [
        ("executorch", ".pte", "not an ExecuTorch program"),
        ("tflite", ".tflite", "not a TFLite flatbuffer"),
        ("torchscript", ".pt", "not a PyTorch zip archive"),
    ],
)
def test_check_file_rejects_random_bytes(name, suffix, why, tmp_path) -> None:
    with pytest.raises(BenchError, match=why):
        get_runner(name).check_file(random_file(tmp_path, f"junk{suffix}"))


def test_onnxruntime_rejects_random_bytes(tmp_path) -> None:
    with pytest.raises(Exception, match="(?i)protobuf|load model|INVALID"):
        measure(
            get_runner("onnxruntime"), random_file(tmp_path, "junk.onnx"), RunRequest(timing=SPEC)
        )


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs on macOS")
def test_coreml_is_skipped_off_macos() -> None:
    from edgeseg.benchmarks.base import RunnerUnavailable

    with pytest.raises(RunnerUnavailable, match="only on macOS"):
        get_runner("coreml").check_available()
