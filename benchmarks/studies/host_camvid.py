"""Host evidence for issue 6: the distilled CamVid student in every format, fp32 and int8, on
CamVid val, plus Google's VOC DeepLabV3 TFLite as a third-party row.

Run: ``python -m benchmarks.studies.host_camvid STUDENT.pt [--size 180x240] [--threads 1] [--runs
30]``. Every step is a library call (``export_checkpoint``, ``run_bench``), recorded in the results
as the ``edgeseg`` command equivalent to it (``--targets`` and ``--images`` shrink a smoke run):

1. ``edgeseg export STUDENT --target all --quantize none`` and ``… --quantize int8``;
2. ``edgeseg bench OUT STUDENT --data camvid:… --roofline --json … --plot … --report …``
   (latency, size, mIoU through each artifact, achieved vs peak GMAC/s);
3. ``edgeseg bench deeplabv3_257_mv_gpu.tflite --data camvid:… --class-map voc_to_camvid.json``:
   VOC's car/bus/train → Car, person → Pedestrian, bicycle/motorbike → Bicyclist; its mIoU is
   over those three CamVid classes only (the rest of VOC's world is "background").

Writes ``RESULTS/host_camvid.{json,md,png}``; the HTML report with overlays stays under ``--out``.

``--reference MODEL --reference-classes C --reference-class-map JSON --name NAME`` puts another
third-party model in the VOC model's place — the issue-19 deployed study benches the distilled
student next to its Cityscapes teacher (``--name distill_deployed``, ``RESULTS/NAME.*``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.studies import recipe
from benchmarks.studies.camvid_train import camvid_spec, shared_root
from edgeseg.atomic import atomic_path
from edgeseg.data import build_dataset
from edgeseg.errors import ConfigError
from edgeseg.export import export_checkpoint
from edgeseg.utils import parse_size

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
CLASS_MAP = Path(__file__).resolve().parent / "classmaps" / "voc_to_camvid.json"
VOC_TFLITE = "models/deeplabv3_257_mv_gpu.tflite"


@dataclass(frozen=True)
class ExportStep:
    """One ``export_checkpoint`` call, and (``argv``) its ``edgeseg export`` line."""

    checkpoint: Path
    target: str
    size: tuple[int, int]
    out: Path
    quantize: str

    def run(self) -> None:
        outcomes = export_checkpoint(
            self.checkpoint, self.target, self.quantize, size=self.size, out=self.out
        )
        if not any(o.ok for o in outcomes):  # as ``edgeseg export`` exits 1
            raise SystemExit(f"nothing exported: {recipe.shown(self.argv())}")

    def argv(self) -> list[str]:
        options = {k: v for k, v in vars(self).items() if k != "checkpoint"}
        return ["export", str(self.checkpoint), *recipe.flags(**options)]


@dataclass(frozen=True)
class BenchStep:
    """One bench call (artifacts, dataset for mIoU, where the reports go), and its
    ``edgeseg bench`` line; :func:`bench` maps it onto the library's option objects."""

    artifacts: tuple[str, ...]
    data: str
    threads: int
    runs: int
    images: int | None = None
    roofline: bool = False
    classes: str | None = None
    class_map: str | None = None
    json: str | None = None
    plot: str | None = None
    report: str | None = None

    def run(self) -> None:
        bench(self)

    def argv(self) -> list[str]:
        options = {k: v for k, v in vars(self).items() if k != "artifacts"}
        return ["bench", *self.artifacts, *recipe.flags(**options)]


def plan(args: argparse.Namespace, out: Path) -> dict[str, ExportStep | BenchStep]:
    """Each step of the study as the library call it makes."""
    shared = shared_root()
    data = getattr(args, "data", None) or camvid_spec()
    timing = {"threads": args.threads, "runs": args.runs, "images": args.images}
    export = {"checkpoint": args.student, "target": args.targets, "size": parse_size(args.size)}
    return {
        "export_fp32": ExportStep(**export, out=out / "export", quantize="none"),
        "export_int8": ExportStep(**export, out=out / "export", quantize="int8"),
        "bench_student": BenchStep(
            (str(out / "export"), str(args.student)),
            data,
            **timing,
            roofline=True,
            json=str(out / "student.json"),
            plot=str(out / "student.png"),
            report=str(out / "student.html"),
        ),
        f"bench_{_label(args)}": BenchStep(
            (str(getattr(args, "reference", None) or shared / VOC_TFLITE),),
            data,
            **timing,
            classes=getattr(args, "reference_classes", None),
            class_map=str(getattr(args, "reference_class_map", None) or CLASS_MAP),
            json=str(out / f"{_label(args)}.json"),
        ),
    }


def _label(args: argparse.Namespace) -> str:
    """The third-party row's step and file name: ``voc`` (the default model) or ``reference``."""
    return "reference" if getattr(args, "reference", None) else "voc"


def commands(args: argparse.Namespace, out: Path) -> dict[str, list[str]]:
    """The ``edgeseg`` argv equivalent to each step (what the results print)."""
    return {name: step.argv() for name, step in plan(args, out).items()}


def bench(step: BenchStep) -> None:
    """``step`` through the library's ``run_bench`` and report writers, as ``edgeseg bench``
    runs them. The one place that knows the bench option objects."""
    from edgeseg.benchmarks.bench import run_bench
    from edgeseg.benchmarks.options import (
        AccuracyOptions,
        BenchOptions,
        FeedOptions,
        TimingOptions,
    )
    from edgeseg.benchmarks.report import write_html, write_json, write_plot

    report = Path(step.report) if step.report else None
    overlays = report.with_name(report.stem + "_overlays") if report else None
    options = BenchOptions(
        timing=TimingOptions(runs=step.runs, threads=step.threads),
        accuracy=AccuracyOptions(
            data=step.data,
            images=step.images,
            class_map=step.class_map,
            overlays=3 if overlays else 0,
            overlay_dir=str(overlays) if overlays else None,
        ),
        feed=FeedOptions(classes=step.classes),
        roofline=step.roofline,
    )
    result = run_bench(list(step.artifacts), options)
    for path, write in ((step.json, write_json), (step.plot, write_plot), (report, write_html)):
        if path:
            write(result, Path(path))


def timed(step: ExportStep | BenchStep) -> float:
    started = time.perf_counter()
    step.run()
    return round(time.perf_counter() - started, 1)


def cpu_ms(record: dict[str, Any]) -> float | None:
    """Median thread CPU ms per inference (1 runtime thread: robust to a shared CPU), else wall."""
    cpu = ((record.get("extra") or {}).get("thread_cpu_ms") or {}).get("median")
    return cpu if cpu else (record.get("latency") or {}).get("median_ms")


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Best fp32 vs best int8 exported artifact by :func:`cpu_ms`; the checkpoint is not one."""
    ok = [r for r in records if r["status"] == "ok" and cpu_ms(r) and r["runner"] != "pytorch"]

    def best(pred) -> dict[str, Any] | None:
        return min((r for r in ok if pred(r["quantization"] or "")), key=cpu_ms, default=None)

    fp32 = best(lambda q: q == "fp32")
    int8 = best(lambda q: q.startswith("int8"))
    ratio = round(cpu_ms(fp32) / cpu_ms(int8), 2) if fp32 and int8 else None
    return {
        "best_fp32": fp32 and fp32["name"],
        "best_int8": int8 and int8["name"],
        "best_int8_speedup": ratio,
    }


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def _mapped_note(record: dict[str, Any]) -> str:
    """A class-mapped foreign model: its mIoU over the classes the map reaches, and each IoU."""
    mapped = (record.get("extra") or {}).get("miou_mapped")
    if mapped is None:
        return ""
    reached = {k: v for k, v in (record.get("per_class_iou") or {}).items() if v}
    each = ", ".join(f"{k} {100 * v:.1f}" for k, v in reached.items())
    return f"mIoU over the mapped classes: {100 * mapped:.2f} ({each})"


def markdown(result: dict[str, Any]) -> str:
    peak = result["student"].get("roofline") or {}
    lines = [
        "# Host benchmark: the distilled CamVid student in every format",
        "",
        f"Host: {result['host']}. Load average {result['load_before']} before, "
        f"{result['load_after']} after (a shared 2-core VM: latencies move with the "
        "neighbours' load).",
        "",
        f"mIoU on: `{result.get('data', 'CamVid val')}` (its val list).",
        "",
        f"Peak (large GEMM, {peak.get('threads')} thread): fp32 "
        f"{_cell(peak.get('fp32_gmacs'), '{:.1f}')} GMAC/s, int8 "
        f"{_cell(peak.get('int8_gmacs'), '{:.1f}')} GMAC/s ({peak.get('int8_method')}). "
        "`cpu ms`: median thread CPU time per inference (one runtime thread; the ranking), "
        "`wall ms`: median elapsed time. GMAC/s from the CPU time. mIoU in %.",
        "",
        "Commands:",
        "",
    ]
    lines += [
        f"- {k}: `edgeseg {' '.join(v)}` ({result['seconds'][k]} s)"
        for k, v in result["commands"].items()
    ]
    lines += [
        "",
        "| artifact | runtime | quant | MB | cpu ms | wall ms | mIoU | GMAC/s | % of peak | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["student"]["records"] + result[result["label"]]["records"]:
        lat, roof = r.get("latency") or {}, (r.get("extra") or {}).get("roofline") or {}
        miou, note = r.get("miou"), r.get("reason") or _mapped_note(r)
        frac = roof.get("fraction_of_peak")
        lines.append(
            f"| {r['name']} | {r['runner']} | {r['quantization'] or '—'} | "
            f"{r['file_bytes'] / 1e6:.2f} | {_cell(cpu_ms(r), '{:.2f}')} | "
            f"{_cell(lat.get('median_ms'), '{:.2f}')} | {_cell(miou and 100 * miou, '{:.2f}')} | "
            f"{_cell(roof.get('gmacs_per_s'), '{:.2f}')} | "
            f"{_cell(frac and 100 * frac, '{:.1f}')} | {note[:120]} |"
        )
    s = result["summary"]
    lines += [
        "",
        f"Best fp32 artifact `{s['best_fp32']}`, best int8 `{s['best_int8']}`: "
        f"best-int8/best-fp32 speed-up **{s['best_int8_speedup']}×**.",
        "",
    ]
    return "\n".join(lines) + "\n"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.studies.host_camvid")
    parser.add_argument("student", type=Path, help="the distilled student's best.pt")
    parser.add_argument("--size", default="180x240")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--targets", default="all", help="export targets (comma list)")
    parser.add_argument("--images", type=int, default=None, help="mIoU over N images (all)")
    parser.add_argument(
        "--data",
        help="dataset spec whose val list scores mIoU (default: the shared CamVid; e.g. the "
        "held-out-drive view a gains study writes, to score a new street)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "host_camvid")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--name", dest="stem", default="host_camvid", help="results file stem")
    parser.add_argument("--reference", help=f"third-party model benched alongside ({VOC_TFLITE})")
    parser.add_argument("--reference-classes", help="its classes (voc, cityscapes, FILE)")
    parser.add_argument("--reference-class-map", help="its classes → CamVid's (JSON)")
    parser.add_argument(
        "--reuse-exports",
        action="store_true",
        help="bench the artifacts of the last run again (its export rows stay)",
    )
    args = parser.parse_args(argv)
    for flag in ("reference", "reference_class_map"):  # before minutes of export, not after
        value = getattr(args, flag)
        if value and not Path(value).is_file():
            raise ConfigError(f"--{flag.replace('_', '-')} {value}: no such file; pass a file")
    if args.data:  # its val list is read now, not after minutes of export
        build_dataset(args.data, "val")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    steps = plan(args, args.out)
    argvs = {name: step.argv() for name, step in steps.items()}
    seconds: dict[str, float] = {}
    if args.reuse_exports:  # the export commands and times of the run that made them
        done = json.loads((args.results / f"{args.stem}.json").read_text())
        exported = [name for name in done["commands"] if name.startswith("export")]
        argvs |= {name: done["commands"][name] for name in exported}
        seconds |= {name: done["seconds"][name] for name in exported}
    for name, step in steps.items():
        if name not in seconds:
            seconds[name] = timed(step)
    student = json.loads((args.out / "student.json").read_text())
    label = _label(args)
    reference = json.loads((args.out / f"{label}.json").read_text())
    result = {
        "command": "python -m benchmarks.studies.host_camvid " + " ".join(argv),
        "host": f"{student['host']['processor']}, {student['host']['cpus']} cores; CPU flags: "
        f"{student['host'].get('cpu_flags', 'unknown')}",
        "data": steps["bench_student"].data,
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "commands": argvs,
        "seconds": seconds,
        "student": student,
        "label": label,
        label: reference,
        "summary": summarize(student["records"]),
    }
    md, text = args.results / f"{args.stem}.md", markdown(result)
    page = recipe.with_notes(md, text)  # hand-written notes below the marker survive a re-run
    png = (args.out / "student.png").read_bytes()  # everything read and rendered before writing
    with atomic_path(args.results / f"{args.stem}.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    with atomic_path(md) as tmp:
        tmp.write_text(page)
    with atomic_path(args.results / f"{args.stem}.png") as tmp:
        tmp.write_bytes(png)
    print(text)
    return 0


if __name__ == "__main__":
    recipe.study_main(main)
