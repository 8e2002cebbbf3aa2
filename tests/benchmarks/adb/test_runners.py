"""The adb runners end to end: real adb, a fake Pixel that really runs the pushed model."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeseg.benchmarks.adb import DeviceGone
from edgeseg.benchmarks.base import BenchError, get_runner, runner_for
from edgeseg.benchmarks.options import PhoneOptions, RunRequest, TimingOptions
from tests.benchmarks.adb.conftest import corrupt_copy

REMOTE = "/data/local/tmp/edgeseg"


def spec_for(
    device, runner_dir: Path, tmp_path: Path, threads: int = 1, repeats: int = 1, **phone
) -> RunRequest:
    return RunRequest(
        device=device.serial,
        timing=TimingOptions(warmup=2, runs=5, threads=threads, repeats=repeats),
        phone=PhoneOptions(runner_path=str(runner_dir), log_dir=str(tmp_path), **phone),
    )


def assert_clean(device) -> None:
    assert not device.host_path(REMOTE).exists(), "pushed files were left on the phone"
    assert device.errors == []


def test_registered_by_suffix() -> None:
    names = {s: runner_for(Path(f"m{s}"), where="adb").name for s in (".tflite", ".pte", ".onnx")}
    assert names == {".tflite": "adb-tflite", ".pte": "adb-executorch", ".onnx": "adb-onnxruntime"}


def test_onnxruntime_push_run_parse(pixel8, runner_dir, tmp_path, onnx_model) -> None:
    spec = spec_for(pixel8, runner_dir, tmp_path, taskset="f0", threads=2)
    result = get_runner("adb-onnxruntime").run(onnx_model, spec)
    lat = result.latency
    assert result.status == "ok" and result.quantization == "fp32" and lat.runs == 5
    assert 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms <= lat.max_ms and lat.std_ms is None
    assert result.load_ms > 0 and result.peak_rss_mb > 1
    run = pixel8.shell.runs[-1]
    assert run["tool"] == "onnxruntime_perf_test" and run["taskset"] == "f0"
    assert run["args"] == [
        "-e",
        "cpu",
        "-m",
        "times",
        "-r",
        "5",
        "-x",
        "2",
        "-I",
        f"{REMOTE}/tiny.onnx",
    ]
    extra = result.extra
    assert extra["device"]["model"] == "Pixel 8" and extra["format"] == "onnxruntime_perf_test"
    assert "Average inference time cost" in Path(extra["raw_output"][0]).read_text()
    assert_clean(pixel8)


def test_tflite_classic_and_litert_formats(pixel8, runner_dir, tmp_path, tflite_model) -> None:
    result = get_runner("adb-tflite").run(tflite_model, spec_for(pixel8, runner_dir, tmp_path))
    lat = result.latency
    assert result.extra["format"] == "tflite-benchmark_model" and lat.runs == 5
    assert lat.median_ms is not None and lat.p90_ms is None  # the tool prints p95, not p90
    assert result.extra["repeats"][0]["p95_ms"] >= lat.median_ms
    assert {"--use_xnnpack=true", "--warmup_runs=2", "--min_secs=0"} <= set(
        pixel8.shell.runs[-1]["args"]
    )
    assert_clean(pixel8)
    litert_dir = tmp_path / "litert"
    litert_dir.mkdir()
    (litert_dir / "benchmark_litert_model").write_bytes(b"\x7fELF")
    spec = spec_for(pixel8, litert_dir / "benchmark_litert_model", tmp_path, delegate="gpu")
    result = get_runner("adb-tflite").run(tflite_model, spec)
    assert result.extra["format"] == "litert-benchmark" and result.latency.runs == 5
    assert "--use_gpu=true" in pixel8.shell.runs[-1]["args"]
    assert_clean(pixel8)


def test_executorch_splits_warmup(pixel8, runner_dir, tmp_path, pte_model) -> None:
    result = get_runner("adb-executorch").run(pte_model, spec_for(pixel8, runner_dir, tmp_path))
    lat = result.latency
    assert lat.runs == 5 and 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms <= lat.max_ms
    assert "--num_executions=7" in pixel8.shell.runs[-1]["args"]  # 2 warm-up + 5 timed
    assert result.first_ms > 0 and result.extra["repeats"][0]["warmup_mean_ms"] > 0
    assert_clean(pixel8)


def test_repeats_pool_and_report_spread(pixel8, runner_dir, tmp_path, onnx_model) -> None:
    spec = spec_for(pixel8, runner_dir, tmp_path, repeats=3, max_temp_c=40.0)
    result = get_runner("adb-onnxruntime").run(onnx_model, spec)
    repeats = result.extra["repeats"]
    assert result.latency.runs == 15 and len(repeats) == 3
    assert result.latency.min_ms == min(r["min_ms"] for r in repeats)
    assert result.latency.median_ms is None  # medians of repeats do not pool
    spread = result.extra["spread"]
    assert spread["mean_ms"] == [r["mean_ms"] for r in repeats] and spread["range_pct"] >= 0
    assert len(result.extra["raw_output"]) == 3 and result.extra["temps_c"] == [31.2] * 3
    assert_clean(pixel8)


@pytest.mark.parametrize(
    "runner, fixture, expect",
    [
        ("adb-onnxruntime", "onnx_model", r"exit 255\): Load model from .*corrupt.onnx failed"),
        ("adb-tflite", "tflite_model", r"exit 1\): ERROR: Benchmarking failed"),
        ("adb-executorch", "pte_model", r"exit (1|134)\)"),
    ],
)
def test_corrupt_model_is_a_tool_failure(
    pixel8, runner_dir, tmp_path, request, runner, fixture, expect
) -> None:
    bad = corrupt_copy(request.getfixturevalue(fixture), tmp_path)
    with pytest.raises(BenchError, match=expect) as err:
        get_runner(runner).run(bad, spec_for(pixel8, runner_dir, tmp_path))
    assert f"on {pixel8.serial}" in str(err.value) and ".log)" in str(err.value)
    assert_clean(pixel8)


def test_missing_runner_binary_says_where_and_how(pixel8, tmp_path, onnx_model, monkeypatch):
    monkeypatch.setenv("EDGESEG_RUNNERS", str(tmp_path / "cache"))
    spec = RunRequest(device=pixel8.serial, phone=PhoneOptions(log_dir=str(tmp_path)))
    with pytest.raises(BenchError) as err:
        get_runner("adb-onnxruntime").run(onnx_model, spec)
    text = str(err.value)
    assert "missing phone-side tool 'onnxruntime_perf_test' for arm64-v8a" in text
    assert str(tmp_path / "cache" / "arm64-v8a" / "onnxruntime_perf_test") in text
    assert "build.sh --android" in text
    with pytest.raises(BenchError, match="tensorflow-nightly-public.*android_aarch64_benchmark"):
        get_runner("adb-tflite").run(onnx_model.with_suffix(".onnx"), spec)


def test_device_vanishing_mid_run(make_device, runner_dir, tmp_path, onnx_model) -> None:
    phone = make_device()
    phone.behaviour.vanish_in = "onnxruntime_perf_test"
    with pytest.raises(DeviceGone, match=r"is offline during onnxruntime_perf_test: reconnect"):
        get_runner("adb-onnxruntime").run(onnx_model, spec_for(phone, runner_dir, tmp_path))


def test_unready_device_and_bad_taskset(make_device, pixel8, runner_dir, tmp_path, onnx_model):
    locked = make_device(authorize=False, want="unauthorized")
    with pytest.raises(BenchError, match="is unauthorized"):
        get_runner("adb-onnxruntime").run(onnx_model, spec_for(locked, runner_dir, tmp_path))
    with pytest.raises(BenchError, match="--taskset 'big' is not a hex CPU mask"):
        spec = spec_for(pixel8, runner_dir, tmp_path, taskset="big")
        get_runner("adb-onnxruntime").run(onnx_model, spec)
