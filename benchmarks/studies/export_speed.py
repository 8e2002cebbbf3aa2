"""What INT8 buys, per runtime: export every target fp32 + int8, then latency, size and mIoU.

Run: ``python -m benchmarks.studies.export_speed CHECKPOINT... [--size 360x480] [--runs 20]
[--data camvid:../shared/data/camvid] [--quantize none,int8]``. For each checkpoint it exports
every target with each quantization (``edgeseg.export``), benches every artifact plus the
checkpoint itself (``edgeseg bench`` machinery: one child process each, one runtime thread, mIoU
over the whole val split through the artifact), and compares each int8 artifact with the fp32
one of the same runtime. onnxruntime is profiled per op (fp32 and int8) so a reader sees where
the time goes. Writes ``benchmarks/results/export.{json,md}`` with the command.

Latency is ranked by the median *thread CPU time* per inference: with one runtime thread the
work runs on the calling thread, so this is the inference's cost even when another process
shares the two cores; wall time is reported next to it, with the load average. The latency
numbers come from ``--rounds`` interleaved rounds (every artifact once per round, order rotated,
latency only): the median of the per-round medians, with the spread across rounds. One pass per
artifact is not enough on a shared VM: back-to-back passes of the same two files differed by
1.4× to 1.7× in their ratio here, because the neighbours' load changes within minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

from benchmarks.studies.ort_profile import profile_onnx
from edgeseg.benchmarks.base import RunResult
from edgeseg.benchmarks.bench import cpu_flags, host_info, run_bench
from edgeseg.benchmarks.options import AccuracyOptions, BenchOptions, TimingOptions
from edgeseg.export import ExportOutcome, export_checkpoint

RESULTS = Path(__file__).resolve().parents[1] / "results"
EXPORT_BUDGET_S = 60.0
MIOU_BUDGET = 0.5  # points


def run(checkpoint: Path, args: argparse.Namespace, out: Path) -> dict:
    """Export + bench one checkpoint; the record that goes into export.json."""
    exports: list[ExportOutcome] = []
    for quantize in args.quantize.split(","):
        exports += export_checkpoint(
            checkpoint,
            "all",
            quantize,
            size=args.size,
            out=out,
            calib_data=args.calib_data,
            calib_images=args.calib_images,
            parity_images=8,
        )
    artifacts = [o.result.path for o in exports if o.ok]
    options = BenchOptions(
        timing=TimingOptions(warmup=args.warmup, runs=args.runs, threads=1),
        accuracy=AccuracyOptions(data=args.data, split="val"),
        progress=False,
    )
    report = run_bench([checkpoint, *artifacts], options)
    rows = [_row(r, exports) for r in report.results]
    _interleaved_latency(rows, args)
    profiles = {
        Path(r["file"]).name: profile_onnx(Path(r["artifact"]))
        for r in rows
        if r["file"].endswith(".onnx") and r["status"] == "ok"
    }
    return {
        "checkpoint": str(checkpoint),
        "rows": rows,
        "summary": summarize(rows),
        "onnxruntime_profiles": profiles,
    }


def _row(result: RunResult, exports: list[ExportOutcome]) -> dict:
    outcome = next((o for o in exports if o.ok and str(o.result.path) == result.artifact), None)
    cpu = result.one_thread_cpu_ms
    lat = result.latency
    return {
        "artifact": result.artifact,
        "file": Path(result.artifact).name,
        "runtime": result.runner,
        "status": result.status,
        "reason": result.reason,
        "quantization": outcome.result.quantize if outcome else (result.quantization or "fp32"),
        "requested": outcome.quantize if outcome else "none",
        "mb": round((result.file_bytes or 0) / 1e6, 3),
        "export_s": round(outcome.result.seconds, 1) if outcome else None,
        "export_cpu_s": round(outcome.result.cpu_seconds, 1) if outcome else None,
        "export_notes": outcome.result.notes if outcome else [],
        "parity_agreement": outcome.parity.agreement if outcome else None,
        "cpu_ms": round(cpu, 2) if cpu else None,
        "wall_ms": round(lat.median_ms, 2) if lat and lat.median_ms else None,
        "miou": round(100 * result.miou, 2) if result.miou is not None else None,
    }


def _interleaved_latency(rows: list[dict], args: argparse.Namespace) -> None:
    """Replace each ok row's latency by the median over ``args.rounds`` interleaved rounds."""
    paths = [r["artifact"] for r in rows if r["status"] == "ok" and r["cpu_ms"]]
    if args.rounds <= 0 or not paths:
        return
    per_round: dict[str, list[tuple[float, float]]] = {p: [] for p in paths}
    options = BenchOptions(
        timing=TimingOptions(warmup=args.warmup, runs=args.runs, threads=1), progress=False
    )
    for index in range(args.rounds):
        order = paths[index % len(paths) :] + paths[: index % len(paths)]
        for result in run_bench(order, options).results:
            cpu = result.one_thread_cpu_ms
            if result.status == "ok" and cpu and result.latency and result.latency.median_ms:
                per_round[result.artifact].append((cpu, result.latency.median_ms))
    for row in rows:
        samples = per_round.get(row["artifact"])
        if samples:
            cpus, walls = [c for c, _ in samples], [w for _, w in samples]
            row["cpu_ms"], row["wall_ms"] = round(median(cpus), 2), round(median(walls), 2)
            row["cpu_ms_rounds"] = [round(c, 2) for c in cpus]


def summarize(rows: list[dict]) -> dict:
    """The issue's four checks, computed from the rows (never typed in)."""
    ok = [r for r in rows if r["status"] == "ok" and r["cpu_ms"]]
    # the eager checkpoint is the baseline row, not an exported artifact: never "best fp32"
    fp32 = {r["runtime"]: r for r in ok if r["requested"] == "none" and r["runtime"] != "pytorch"}
    int8 = {r["runtime"]: r for r in ok if r["requested"] == "int8"}
    per_runtime = {
        rt: {
            "fp32_cpu_ms": fp32[rt]["cpu_ms"],
            "int8_cpu_ms": r["cpu_ms"],
            "speedup": round(fp32[rt]["cpu_ms"] / r["cpu_ms"], 2),
            "size_ratio": round(r["mb"] / fp32[rt]["mb"], 3),
            "miou_delta": _delta(r["miou"], fp32[rt]["miou"]),
        }
        for rt, r in int8.items()
        if rt in fp32
    }
    best_fp32 = min(fp32.values(), key=lambda r: r["cpu_ms"], default=None)
    best_int8 = min(int8.values(), key=lambda r: r["cpu_ms"], default=None)
    exported = [r for r in rows if r["export_cpu_s"] is not None]
    return {
        "per_runtime": per_runtime,
        "best_fp32": best_fp32 and best_fp32["file"],
        "best_int8": best_int8 and best_int8["file"],
        "best_int8_speedup": round(best_fp32["cpu_ms"] / best_int8["cpu_ms"], 2)
        if best_fp32 and best_int8
        else None,
        "slowest_export_cpu_s": max((r["export_cpu_s"] for r in exported), default=None),
        "all_exports_within_60s": all(r["export_cpu_s"] <= EXPORT_BUDGET_S for r in exported),
        "int8_miou_within_budget": all(
            v["miou_delta"] is not None and v["miou_delta"] >= -MIOU_BUDGET
            for v in per_runtime.values()
        ),
        "int8_not_slower": {rt: v["speedup"] >= 1.0 for rt, v in per_runtime.items()},
    }


def _export_time(row: dict) -> str:
    if row["export_cpu_s"] is None:
        return "—"
    return f"{row['export_cpu_s']} / {row['export_s']}"


def _remeasured(report: dict) -> list[str]:
    again = report.get("latency_remeasured")
    if not again:
        return []
    return [
        f"Latency re-measured with `{again['command']}` (load average {again['load_before']} "
        f"before, {again['load_after']} after); exports, export times and mIoU are from the "
        "command above."
    ]


def _cpu_cell(row: dict) -> str:
    """Median CPU ms, with the range across interleaved rounds when there were several."""
    rounds = row.get("cpu_ms_rounds") or []
    if not row["cpu_ms"]:
        return "—"
    if len(rounds) < 2:
        return str(row["cpu_ms"])
    return f"{row['cpu_ms']} ({min(rounds)}–{max(rounds)})"


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 2)


def markdown(report: dict) -> str:
    lines = [
        "# Export: what INT8 buys per runtime on this CPU",
        "",
        f"Command: `{report['command']}`  ",
        f"Host: {report['host']['processor']}, {report['host']['cpus']} cores; CPU flags: "
        f"{report['cpu_flags']}. Load average {report['load_before']} before, "
        f"{report['load_after']} after.",
        *_remeasured(report),
        "",
        "Latency: one runtime thread, batch 1, median over interleaved rounds of each "
        "round's median (every artifact once per round; `cpu ms rounds` shows each round). "
        "`cpu ms` is the calling thread's CPU time (the ranking: robust to a shared CPU), "
        "`wall ms` the elapsed time. mIoU: all val images through the artifact itself.",
        "",
    ]
    for rec in report["models"]:
        lines += _model_md(rec)
    return "\n".join(lines) + "\n"


def _model_md(rec: dict) -> list[str]:
    s = rec["summary"]
    lines = [
        f"## {rec['checkpoint']}",
        "",
        "| file | runtime | label | MB | export s cpu/wall | cpu ms (rounds) | wall ms | mIoU "
        "| note |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rec["rows"]:
        note = r["reason"] if r["status"] != "ok" else "; ".join(r["export_notes"][-1:])[:90]
        lines.append(
            f"| {r['file']} | {r['runtime']} | {r['quantization']} | {r['mb']} | "
            f"{_export_time(r)} | {_cpu_cell(r)} | {r['wall_ms'] or '—'} | "
            f"{r['miou'] if r['miou'] is not None else '—'} | {note} |"
        )
    lines += [
        "",
        "| runtime | fp32 cpu ms | int8 cpu ms | int8 speed-up | int8/fp32 size | int8 ΔmIoU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rt, v in s["per_runtime"].items():
        lines.append(
            f"| {rt} | {v['fp32_cpu_ms']} | {v['int8_cpu_ms']} | {v['speedup']}× | "
            f"{v['size_ratio']} | {v['miou_delta']} |"
        )
    lines += [
        "",
        f"Best fp32: `{s['best_fp32']}`; best int8: `{s['best_int8']}`: "
        f"**{s['best_int8_speedup']}×**. Slowest export {s['slowest_export_cpu_s']} s CPU "
        f"(all ≤ 60 s: {s['all_exports_within_60s']}). Every int8 within "
        f"{MIOU_BUDGET} mIoU: {s['int8_miou_within_budget']}.",
        "",
    ]
    lines += _why_slower(s)
    for name, prof in rec["onnxruntime_profiles"].items():
        top = ", ".join(f"{k} {v}%" for k, v in list(prof["share_pct"].items())[:6])
        lines.append(f"- onnxruntime per-op time, `{name}`: {top}")
    return [*lines, ""]


def _why_slower(summary: dict) -> list[str]:
    """Where int8 is slower than fp32 on a runtime, the per-op evidence (xnnpack_ops.json)."""
    slower = [rt for rt, ok in summary["int8_not_slower"].items() if not ok]
    ops = RESULTS / "xnnpack_ops.json"
    if not slower or not ops.exists():
        return []
    rows = json.loads(ops.read_text())["rows"]
    lines = []
    for rt in slower:
        key = {"onnxruntime": "onnx"}.get(rt, rt)
        found = [
            f"{r['block']} {r[f'{key}_int8_speedup']}×"
            for r in rows
            if r.get(f"{key}_int8_speedup") is not None
        ]
        if found:
            lines.append(
                f"- Why {rt} int8 is slower here: its int8 kernels vs fp32 per op type "
                f"(`xnnpack_ops.md`, same CPU): {', '.join(found)}."
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--size", default="360x480")
    parser.add_argument("--quantize", default="none,int8")
    parser.add_argument("--data", default=None, help="labelled set (default: checkpoint's)")
    parser.add_argument("--calib-data", default=None)
    parser.add_argument("--calib-images", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved latency rounds")
    parser.add_argument("--out", type=Path, default=Path("runs/export_speed"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    again = "re-measure latency of RESULTS/export.json's artifacts (exports and mIoU stay)"
    parser.add_argument("--latency-only", action="store_true", help=again)
    args = parser.parse_args(argv)
    if args.latency_only:
        remeasure(
            args, "python -m benchmarks.studies.export_speed " + " ".join(argv or sys.argv[1:])
        )
        return
    started, load_before = time.time(), os.getloadavg()
    models = []
    for ckpt in args.checkpoints:
        args.data = args.data or _dataset_of(ckpt)
        models.append(run(ckpt, args, args.out / ckpt.parent.name))
        print(json.dumps(models[-1]["summary"]), flush=True)
    report = {
        "command": "python -m benchmarks.studies.export_speed " + " ".join(argv or sys.argv[1:]),
        "host": host_info(),
        "cpu_flags": cpu_flags(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "minutes": round((time.time() - started) / 60, 1),
        "models": models,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "export.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "export.md").write_text(markdown(report))


def remeasure(args: argparse.Namespace, command: str) -> None:
    """Latency rounds again over the recorded artifacts; the verdicts recomputed from them."""
    path = args.results / "export.json"
    report = json.loads(path.read_text())
    load_before = [round(x, 2) for x in os.getloadavg()]
    for rec in report["models"]:
        _interleaved_latency(rec["rows"], args)
        rec["summary"] = summarize(rec["rows"])
        print(json.dumps(rec["summary"]), flush=True)
    report["latency_remeasured"] = {
        "command": command,
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "export.md").write_text(markdown(report))


def _dataset_of(checkpoint: Path) -> str:
    from edgeseg.checkpoint import load_checkpoint

    return load_checkpoint(checkpoint).meta.dataset


if __name__ == "__main__":
    main()
