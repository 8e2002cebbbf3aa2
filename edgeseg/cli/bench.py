"""``edgeseg bench``: latency, size, memory and mIoU of artifacts on this machine and on phones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from edgeseg.cli.options import QuietOpt, make_console
from edgeseg.errors import ExitCode
from edgeseg.utils import parse_triple

console = make_console()
Path_ = Optional[Path]
Text = Optional[str]


def _opt(help_: str, *names: str):
    return typer.Option(*names, help=help_)


def bench(
    artifacts: Annotated[list[Path], typer.Argument(help="Model files or folders of them")],
    data: Annotated[Text, _opt("Labelled dataset for mIoU: camvid:PATH | voc:PATH | …")] = None,
    split: Annotated[str, _opt("Dataset split for mIoU")] = "val",
    images: Annotated[Optional[int], _opt("mIoU over the first N images (default: all)")] = None,
    class_map: Annotated[Path_, _opt('JSON {"model class": "dataset class" | null}')] = None,
    classes: Annotated[Text, _opt("Foreign models: class names (voc | FILE | a,b,c)")] = None,
    mean: Annotated[Text, _opt("Foreign models: mean r,g,b in 0-1 units")] = None,
    std: Annotated[Text, _opt("Foreign models: std r,g,b in 0-1 units")] = None,
    device: Annotated[
        list[str], _opt("host | SERIAL | ALIAS | all (repeatable; phones run in parallel)")
    ] = ["host"],  # noqa: B006
    threads: Annotated[int, _opt("Inference threads")] = 1,
    warmup: Annotated[int, _opt("Untimed warm-up runs")] = 3,
    runs: Annotated[int, _opt("Timed runs")] = 20,
    runner: Annotated[
        Text, _opt("tflite | executorch | onnxruntime | app | … (default: by file type)")
    ] = None,
    runner_path: Annotated[Text, _opt("Phones: the tool binary, or a folder of them")] = None,
    delegate: Annotated[str, _opt("Phones, TFLite: xnnpack | gpu | nnapi | none")] = "xnnpack",
    json_out: Annotated[Path_, _opt("Write the JSON report here", "--json")] = None,
    csv_out: Annotated[Path_, _opt("Write a CSV here", "--csv")] = None,
    plot: Annotated[Path_, _opt("Write the accuracy-vs-latency PNG here")] = None,
    report: Annotated[Path_, _opt("Write a self-contained HTML report here")] = None,
    roofline: Annotated[bool, _opt("Measure peak GEMM; report MACs, GMAC/s, % of peak")] = False,
    timeout: Annotated[float, _opt("Seconds per host artifact before it is stopped")] = 1800.0,
    host_alongside: Annotated[
        bool, _opt("Run host rows while the phones run (faster; noisier host timings)")
    ] = False,
    max_miou_drop: Annotated[
        Optional[float], _opt("Gate: mIoU points a row may lose against its reference")
    ] = None,
    min_miou_ratio: Annotated[
        Optional[float], _opt("Gate: row mIoU / reference mIoU at least R (e.g. 0.97)")
    ] = None,
    max_latency_ms: Annotated[Optional[float], _opt("Gate: median latency at most MS")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Benchmark ARTIFACTS: load time, latency stats, peak RSS, size and (with --data) mIoU."""
    from edgeseg.benchmarks.bench import run_bench
    from edgeseg.benchmarks.options import (
        AccuracyOptions,
        BenchOptions,
        FeedOptions,
        GateOptions,
        PhoneOptions,
        ReportOptions,
        ScheduleOptions,
        TimingOptions,
    )
    from edgeseg.benchmarks.report import (
        bench_notes,
        bench_table,
        gate_line,
        write_csv,
        write_html,
        write_json,
        write_plot,
    )

    overlay_dir = report.with_name(report.stem + "_overlays") if report and data else None
    reports = ReportOptions(  # every output path is checked writable first
        *(str(p) if p else None for p in (json_out, csv_out, plot, report))
    )
    options = BenchOptions(  # every value is checked here, before anything runs
        timing=TimingOptions(warmup=warmup, runs=runs, threads=threads, timeout_s=timeout),
        accuracy=AccuracyOptions(
            data=data,
            split=split,
            images=images,
            class_map=str(class_map) if class_map else None,
            overlays=3 if overlay_dir else 0,
            overlay_dir=str(overlay_dir) if overlay_dir else None,
        ),
        feed=FeedOptions(parse_triple(mean, "--mean"), parse_triple(std, "--std"), classes),
        phone=PhoneOptions(delegate=delegate, runner_path=runner_path),
        devices=tuple(device),
        runner=runner,
        roofline=roofline,
        progress=not quiet,
        reports=reports,
        schedule=ScheduleOptions(host_alongside=host_alongside),
        gates=GateOptions(max_miou_drop, min_miou_ratio, max_latency_ms),
    )
    result = run_bench([str(a) for a in artifacts], options)
    console.print(bench_table(result))
    for line in bench_notes(result):
        console.print(escape(line), highlight=False)
    if result.peak:
        p = result.peak
        int8 = f"{p.int8_gmacs:.1f}" if p.int8_gmacs else "—"
        console.print(
            f"peak GEMM ({p.size}³, {p.threads} thread(s)): fp32 {p.fp32_gmacs:.1f} "
            f"GMAC/s, int8 {int8} GMAC/s ({p.int8_method})"
        )
    if data:
        console.print("mIoU: labels resized (nearest) to each artifact's input size")
    verdict = gate_line(result)
    if verdict:
        console.print(verdict)
    for path, write in (
        (reports.json, write_json),
        (reports.csv, write_csv),
        (reports.plot, write_plot),
        (reports.html, write_html),
    ):
        if path:
            console.print(f"wrote {write(result, Path(path))}")
    if result.failed:  # reports are written first: they say which rows failed and why
        raise typer.Exit(ExitCode.FAILED)
    if result.gate_failed:  # every row ran; some port lost too much (or is too slow)
        raise typer.Exit(ExitCode.GATE_FAILED)
