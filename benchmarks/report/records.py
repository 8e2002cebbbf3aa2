"""The JSON and CSV reports of ``edgeseg bench``: one record per artifact × device.

JSON schema (``"schema": "edgeseg-bench/1"``)::

    {
      "schema": "edgeseg-bench/1",
      "created": "2025-01-01T12:00:00+00:00",          # UTC
      "host": {"platform", "machine", "processor", "cpus", "python"},
      "settings": {"warmup", "runs", "threads", "devices", "runner", "data", "split",
                   "images", "class_map",
                   "gates": {"max_miou_drop", "min_miou_ratio", "max_latency_ms"}},
      "roofline": null | {"threads", "size", "fp32_gmacs", "int8_gmacs", "int8_method"},
      "records": [
        {
          "artifact": "runs/x/export/m_fp32.tflite",  "name": "m_fp32.tflite",
          "runner": "tflite",            # a host runner, or adb-tflite / adb-executorch / …
          "device": "host",              # or the phone's adb serial
          "status": "ok" | "failed" | "skipped",   "reason": "why, when not ok",
          "file_bytes": 123456,          "quantization": "fp32" | "int8" | "int8-mixed" | …,
          "load_ms", "first_ms": float,  # load/session creation; the first inference
          "latency": {"runs", "mean_ms", "median_ms", "p90_ms", "min_ms", "max_ms",
                      "std_ms"},         # timed runs after warm-up; a phone tool's
                                         # unreported statistic is null
          "peak_rss_mb": float,          # host: the measuring process's high-water mark
          "miou": float | null,          # 0..1, over "images" images of settings.data
          "per_class_iou": {"class": float | null},   # null: class absent from truth+pred
          "images": int | null,
          "extra": {…}                   # see below
        }
      ]
    }

``extra`` on host rows: ``threads``, ``warmup``, ``feed`` (sidecar | embedded | tensors: where
the input contract came from), ``notes`` (caveats, e.g. how a foreign model was fed),
``rss_before_load_mb``, ``origin`` (checkpoint sha256 @ size), ``pixel_accuracy``,
``miou_mapped`` (mIoU over the dataset classes the class map reaches), ``label_resize``,
``overlays`` (PNG paths), ``macs`` + ``macs_method`` and ``roofline`` (``gmacs_per_s``,
``peak``, ``peak_gmacs_per_s``, ``fraction_of_peak``) with ``--roofline``; on every row with
``--data``: ``reference`` (``miou``, ``delta``, ``ratio``, ``images``: the artifact's reference
on the same images, or ``why`` there is none) and with a gate: ``gate`` (``status``
pass | fail | unchecked, ``why``), see ``benchmarks/gates.py``. The CSV flattens them into
``ref_miou``, ``delta_miou``, ``miou_ratio`` and ``gate`` (``pass``, ``fail: why``,
``unchecked: why``). adb rows: see
``benchmarks/adb/session.py`` (device info, tool, raw output, repeats, spread, temperatures).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.bench import BenchReport

SCHEMA = "edgeseg-bench/1"
CSV_COLUMNS = (
    "name",
    "runner",
    "device",
    "status",
    "quantization",
    "file_mb",
    "load_ms",
    "first_ms",
    "mean_ms",
    "median_ms",
    "p90_ms",
    "min_ms",
    "std_ms",
    "runs",
    "peak_rss_mb",
    "miou",
    "images",
    "ref_miou",
    "delta_miou",
    "miou_ratio",
    "gate",
    "macs",
    "gmacs_per_s",
    "fraction_of_peak",
    "reason",
    "artifact",
)


def report_dict(report: BenchReport) -> dict:
    o = report.options
    settings = {
        "warmup": o.timing.warmup,
        "runs": o.timing.runs,
        "threads": o.timing.threads,
        "devices": list(o.devices),
        "runner": o.runner,
        "data": o.accuracy.data,
        "split": o.accuracy.split,
        "images": o.accuracy.images,
        "class_map": o.accuracy.class_map,
        "gates": asdict(o.gates),
    }
    return {
        "schema": SCHEMA,
        "created": report.created,
        "host": report.host,
        "settings": settings,
        "roofline": report.peak.as_dict() if report.peak else None,
        "records": [{"name": Path(r.artifact).name, **r.as_dict()} for r in report.results],
    }


def write_json(report: BenchReport, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report_dict(report), indent=2, default=str) + "\n")
    return path


def flat_row(record: dict) -> dict:
    """One CSV/table row from a JSON record (missing values stay empty)."""
    lat = record.get("latency") or {}
    roof = (record.get("extra") or {}).get("roofline") or {}
    size = record.get("file_bytes")
    row = {
        **{
            k: record.get(k)
            for k in (
                "name",
                "runner",
                "device",
                "status",
                "quantization",
                "load_ms",
                "first_ms",
                "peak_rss_mb",
                "miou",
                "images",
                "reason",
                "artifact",
            )
        },
        **{k: lat.get(k) for k in ("mean_ms", "median_ms", "p90_ms", "min_ms", "std_ms", "runs")},
        "file_mb": size / 1e6 if size is not None else None,
        **reference_cells(record),
        "macs": (record.get("extra") or {}).get("macs"),
        "gmacs_per_s": roof.get("gmacs_per_s"),
        "fraction_of_peak": roof.get("fraction_of_peak"),
    }
    return {k: row[k] for k in CSV_COLUMNS}


def reference_cells(record: dict) -> dict:
    """The reference comparison and gate of a record as flat cells (empty when absent)."""
    extra = record.get("extra") or {}
    ref = extra.get("reference") or {}
    verdict = extra.get("gate")
    gate = None
    if verdict:
        why = verdict.get("why")
        gate = (
            verdict["status"]
            if verdict["status"] == "pass" or not why
            else f"{verdict['status']}: {why}"
        )
    return {
        "ref_miou": ref.get("miou"),
        "delta_miou": ref.get("delta"),
        "miou_ratio": ref.get("ratio"),
        "gate": gate,
    }


def write_csv(report: BenchReport, path: Path) -> Path:
    rows = [flat_row(r) for r in report_dict(report)["records"]]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
