"""The tool-output parsers on text in each tool's real format (``outputs/``: layout as the tools'
sources print it, numbers made up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeseg.benchmarks.adb.devices import parse_devices_l, parse_getprop, resolve_devices
from edgeseg.benchmarks.adb.parsers import (
    ParseError,
    ToolTimings,
    parse_executor_runner,
    parse_onnxruntime_perf,
    parse_tflite,
)
from edgeseg.benchmarks.adb.runners import split_warmup
from edgeseg.benchmarks.adb.session import pool, spread
from edgeseg.benchmarks.base import BenchError

OUTPUTS = Path(__file__).with_name("outputs")


def read(name: str) -> str:
    return (OUTPUTS / name).read_text()


TFLITE_CLASSIC = read("benchmark_model_classic.txt")
TFLITE_OLDER = read("benchmark_model_older.txt")
TFLITE_OLDEST = read("benchmark_model_oldest.txt")
LITERT = read("benchmark_litert_model.txt")
ORT = read("onnxruntime_perf_test.txt")
ET = read("executor_runner.txt")
DEVICES_L = read("adb_devices_l.txt")


def test_tflite_classic_reads_summary_timed_count_line_and_peak_memory() -> None:
    t = parse_tflite(TFLITE_CLASSIC)
    assert t.format == "tflite-benchmark_model" and t.runs == 50  # the timed, not warm-up, line
    assert (t.init_ms, t.first_ms, t.warmup_mean_ms) == (31.208, 18.833, 13.616)
    assert t.mean_ms == pytest.approx(10.9114)
    assert (t.min_ms, t.max_ms, t.std_ms) == (10.65, 12.47, 0.301)
    assert (t.median_ms, t.p95_ms, t.p90_ms) == (10.85, 11.604, None)
    assert t.peak_mem_mb == 14.5742


def test_tflite_older_builds() -> None:
    t = parse_tflite(TFLITE_OLDER)
    assert t.runs == 83 and t.median_ms is None and t.peak_mem_mb == 8.25
    old = parse_tflite(TFLITE_OLDEST)
    assert (old.mean_ms, old.init_ms, old.warmup_mean_ms) == (80.3105, 4.15, 91.2)
    assert old.first_ms is None and old.runs is None


def test_litert_block() -> None:
    t = parse_tflite(LITERT)
    assert t.format == "litert-benchmark" and t.runs == 50
    assert (t.mean_ms, t.min_ms, t.max_ms, t.std_ms) == (6.48, 6.11, 8.9, 0.37)
    assert (t.init_ms, t.first_ms, t.warmup_mean_ms, t.peak_mem_mb) == (120.45, 9.81, 7.02, 40.12)


def test_onnxruntime_perf_test() -> None:
    t = parse_onnxruntime_perf(ORT)
    assert t.runs == 50 and t.mean_ms == 49.304 and t.std_ms is None
    assert (t.min_ms, t.median_ms, t.p90_ms, t.p99_ms) == pytest.approx((47.1, 48.9, 51.2, 58.3))
    assert (t.init_ms, t.first_ms, t.peak_mem_mb) == pytest.approx((182.0, 61.0, 100.0))
    plain = ORT.replace("time cost total:", "time cost:")  # builds before "total" was added
    assert parse_onnxruntime_perf(plain).mean_ms == 49.304


def test_executor_runner_and_warmup_split() -> None:
    t = parse_executor_runner(ET)
    assert t.runs == 4 and t.mean_ms == 7.0 and t.init_ms == 3.512
    assert t.samples_ms == [8.5, 6.5, 6.0, 7.0]
    timed = split_warmup(t, warmup=1)
    assert timed.runs == 3 and timed.samples_ms == [6.5, 6.0, 7.0]
    assert (timed.first_ms, timed.warmup_mean_ms, timed.median_ms) == (8.5, 8.5, 6.5)
    lines = [ln for ln in ET.splitlines() if "Iteration" not in ln]  # runners before per-run logs
    bare = split_warmup(parse_executor_runner("\n".join(lines)), warmup=1)
    assert bare.mean_ms == 7.0 and "mean includes warm-up" in bare.format


@pytest.mark.parametrize(
    "parser, text, missing",
    [
        (parse_tflite, TFLITE_CLASSIC.split("INFO: Inference timings")[0], "Inference timings"),
        (parse_onnxruntime_perf, ORT[:120], "Average inference time cost"),
        (parse_executor_runner, ET[:300], "Model executed successfully"),
        (parse_tflite, ORT, "Inference timings"),
    ],
)
def test_truncated_or_foreign_output_is_an_error(parser, text, missing) -> None:
    with pytest.raises(ParseError, match=missing):
        parser(text)


def test_pool_and_spread_across_repeats() -> None:
    a = ToolTimings("x", 10.0, runs=10, min_ms=9.0, max_ms=12.0, std_ms=1.0, median_ms=9.8)
    b = ToolTimings("x", 14.0, runs=30, min_ms=13.0, max_ms=15.0, std_ms=0.5, median_ms=14.1)
    stats = pool([a, b])
    assert stats.runs == 40 and stats.mean_ms == 13.0 and (stats.min_ms, stats.max_ms) == (9, 15)
    # pooled variance = within (10·1 + 30·0.25) + between (10·9 + 30·1), over 40 runs
    assert stats.std_ms == pytest.approx(((10 + 7.5 + 90 + 30) / 40) ** 0.5)
    assert stats.median_ms is None and pool([a]).median_ms == 9.8
    assert spread([a, b]) == {
        "mean_ms": [10.0, 14.0],
        "min_ms": 10.0,
        "max_ms": 14.0,
        "range_pct": pytest.approx(100 * 4 / 12),
    }


def test_devices_l_and_getprop() -> None:
    found = parse_devices_l(DEVICES_L)
    assert [(d.serial, d.state) for d in found] == [
        ("0A1B2C3D4E", "device"),
        ("R58M12ABCDE", "unauthorized"),
        ("emulator-5554", "offline"),
        ("ZY22XYZ", "no permissions"),
    ]
    assert (found[0].model, found[0].device) == ("Pixel 8", "shiba")
    props = parse_getprop("[ro.product.model]: [Pixel 8]\n[ro.soc.model]: [Tensor G3]\n")
    assert props == {"ro.product.model": "Pixel 8", "ro.soc.model": "Tensor G3"}
    with pytest.raises(BenchError, match="device emulator-5554 is offline"):
        resolve_devices("sdk_gphone64_arm64", found)
    assert [d.serial for d in resolve_devices("all", found)] == ["0A1B2C3D4E"]
