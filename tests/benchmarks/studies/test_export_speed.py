"""The export evidence script's verdicts: computed from the measured rows, never typed in.
No exports here (each takes a minute); the script's full path is its real run on CamVid."""

from __future__ import annotations

from benchmarks.studies.export_speed import _cpu_cell, _why_slower, summarize


def row(runtime: str, requested: str, cpu_ms: float, mb: float, miou: float, export_s: float):
    return {
        "file": f"m_{runtime}_{requested}",
        "runtime": runtime,
        "status": "ok",
        "requested": requested,
        "cpu_ms": cpu_ms,
        "mb": mb,
        "miou": miou,
        "export_cpu_s": export_s,
    }


def test_summary_compares_each_int8_with_its_own_runtime_and_the_best_fp32() -> None:
    rows = [
        {**row("pytorch", "none", 40.0, 12.0, 61.0, 0.0), "export_cpu_s": None},  # the checkpoint
        row("onnxruntime", "none", 80.0, 12.0, 61.0, 10.0),
        row("onnxruntime", "int8", 50.0, 3.0, 60.8, 20.0),
        row("executorch", "none", 90.0, 12.0, 61.0, 30.0),
        row("executorch", "int8", 100.0, 3.3, 60.0, 61.0),
    ]
    s = summarize(rows)
    assert s["per_runtime"]["onnxruntime"]["speedup"] == 1.6
    assert s["per_runtime"]["executorch"]["miou_delta"] == -1.0
    assert s["best_fp32"] == "m_onnxruntime_none" and s["best_int8"] == "m_onnxruntime_int8"
    assert s["best_int8_speedup"] == 1.6
    assert s["int8_not_slower"] == {"onnxruntime": True, "executorch": False}
    assert s["all_exports_within_60s"] is False and s["int8_miou_within_budget"] is False
    why = _why_slower(s)  # reads the checked-in per-op microbenchmark of this CPU
    assert len(why) == 1 and why[0].startswith("- Why executorch int8 is slower")
    assert "depthwise 3x3" in why[0]


def test_cpu_cell_shows_the_spread_across_rounds() -> None:
    assert _cpu_cell({"cpu_ms": 50.1, "cpu_ms_rounds": [49.0, 50.1, 66.7]}) == "50.1 (49.0–66.7)"
    assert _cpu_cell({"cpu_ms": 50.1}) == "50.1"
    assert _cpu_cell({"cpu_ms": None}) == "—"


def test_a_latency_remeasure_is_named_with_its_command() -> None:
    from benchmarks.studies.export_speed import _remeasured

    assert _remeasured({}) == []
    again = {
        "command": "python -m benchmarks.studies.export_speed --latency-only",
        "load_before": [0.1],
        "load_after": [0.2],
    }
    (line,) = _remeasured({"latency_remeasured": again})
    assert "`python -m benchmarks.studies.export_speed --latency-only`" in line and "[0.1]" in line
