"""Reports: the JSON schema, the CSV columns, the PNG and the self-contained HTML."""

from __future__ import annotations

import csv
import json

import pytest

from edgeseg.benchmarks.bench import run_bench
from edgeseg.benchmarks.options import AccuracyOptions, BenchOptions, TimingOptions
from edgeseg.benchmarks.report import (
    CSV_COLUMNS,
    SCHEMA,
    bench_notes,
    bench_table,
    write_csv,
    write_html,
    write_json,
    write_plot,
)
from tests.benchmarks.conftest import random_file

RECORD_KEYS = {
    "name",
    "artifact",
    "runner",
    "device",
    "status",
    "reason",
    "file_bytes",
    "quantization",
    "load_ms",
    "first_ms",
    "latency",
    "peak_rss_mb",
    "miou",
    "per_class_iou",
    "images",
    "extra",
}


@pytest.fixture(scope="module")
def report(exports, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    job = AccuracyOptions(data="sample", images=2, overlays=2, overlay_dir=str(tmp / "overlays"))
    options = BenchOptions(TimingOptions(warmup=0, runs=2), job, roofline=True, progress=False)
    return run_bench([exports["onnx"], random_file(tmp, "bad.tflite")], options)


def test_json_schema(report, tmp_path) -> None:
    data = json.loads(write_json(report, tmp_path / "r.json").read_text())
    assert data["schema"] == SCHEMA and data["host"]["cpus"] >= 1
    assert data["settings"]["data"] == "sample" and data["settings"]["runs"] == 2
    assert data["roofline"]["fp32_gmacs"] > 0 and data["roofline"]["threads"] == 1
    ok, bad = data["records"]
    assert set(ok) == RECORD_KEYS and set(bad) == RECORD_KEYS
    assert set(ok["latency"]) == {
        "runs",
        "mean_ms",
        "median_ms",
        "p90_ms",
        "min_ms",
        "max_ms",
        "std_ms",
    }
    assert ok["status"] == "ok" and 0 <= ok["miou"] <= 1 and ok["images"] == 2
    assert set(ok["per_class_iou"]) == {"background", "disc", "box", "triangle", "ring"}
    roof = ok["extra"]["roofline"]
    assert roof["peak"] == "fp32" and 0 < roof["fraction_of_peak"] < 5
    assert roof["clock"] == "thread-cpu"  # one runtime thread: its CPU time, not wall time
    assert roof["gmacs_per_s"] == pytest.approx(
        ok["extra"]["macs"] / ok["extra"]["thread_cpu_ms"]["median"] / 1e6
    )
    assert bad["status"] == "failed" and "TFLite" in bad["reason"] and bad["latency"] is None


def test_csv_columns(report, tmp_path) -> None:
    with write_csv(report, tmp_path / "r.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2
    assert float(rows[0]["median_ms"]) > 0 and rows[1]["median_ms"] == ""


def test_png_html_and_table(report, tmp_path) -> None:
    png = write_plot(report, tmp_path / "r.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    page = write_html(report, tmp_path / "r.html").read_text()
    assert "<table>" in page and "bad.tflite" in page
    assert page.count("data:image/png;base64,") == 5  # the plot + 2 overlays + their 2 truths
    assert len(report.results[0].extra["overlays"]) == 2
    table = bench_table(report)
    assert table.row_count == 2 and "GMAC/s" in [c.header for c in table.columns]
    assert bench_notes(report)[0].startswith("❌2 bad.tflite: ")
