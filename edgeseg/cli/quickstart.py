"""``edgeseg quickstart``: sample data → teacher → distilled student → export → bench → report,
offline, in minutes (a thin layer over :func:`edgeseg.apps.quickstart.run_quickstart`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from edgeseg.apps.quickstart import (
    DEFAULT_STUDENT,
    DEFAULT_TEACHER,
    QuickstartConfig,
    StageResult,
    run_quickstart,
)
from edgeseg.cli.export import outcome_table
from edgeseg.cli.options import OutOpt, QuietOpt, WorkersOpt, make_console
from edgeseg.errors import ExitCode
from edgeseg.quantization import QuantMode
from edgeseg.utils import parse_size

console = make_console()
Opt = typer.Option


def quickstart(
    out: OutOpt = Path("runs/quickstart"),
    epochs: Annotated[int, Opt(help="Teacher training epochs")] = 5,
    distill_epochs: Annotated[int, Opt(help="Student distillation epochs")] = 10,
    targets: Annotated[str, Opt(help="Export targets: all | comma list (onnx,tflite,…)")] = "all",
    quantize: Annotated[str, Opt(help=f"Comma list of {' | '.join(QuantMode.values())}")] = (
        f"{QuantMode.NONE},{QuantMode.INT8}"
    ),
    size: Annotated[str, Opt(help="Train/export/bench size HxW (sample: 120x160)")] = "96x128",
    runs: Annotated[int, Opt(help="Timed bench runs per artifact")] = 20,
    warmup: Annotated[int, Opt(help="Untimed bench warm-up runs")] = 3,
    threads: Annotated[int, Opt(help="Bench inference threads")] = 1,
    skip_export: Annotated[bool, Opt(help="No export (bench the checkpoints only)")] = False,
    skip_bench: Annotated[bool, Opt(help="No bench and no bench report")] = False,
    teacher_arch: Annotated[str, Opt(help="Teacher model")] = DEFAULT_TEACHER,
    student_arch: Annotated[str, Opt(help="Student model")] = DEFAULT_STUDENT,
    limit_train_batches: Annotated[Optional[int], Opt(help="Batches per epoch (smoke)")] = None,
    workers: WorkersOpt = 2,
    quiet: QuietOpt = False,
) -> None:
    """Sample data → teacher → distilled student → every export fp32 + int8 → host bench →
    table, JSON, CSV, plot and HTML report. No network needed."""
    cfg = QuickstartConfig(
        out=out,
        teacher=teacher_arch,
        student=student_arch,
        epochs=epochs,
        distill_epochs=distill_epochs,
        size=parse_size(size),
        targets=targets,
        quantize=tuple(q.strip().lower() for q in quantize.split(",") if q.strip()),
        runs=runs,
        warmup=warmup,
        threads=threads,
        export=not skip_export,
        bench=not skip_bench,
        limit_train_batches=limit_train_batches,
        workers=workers,
        progress=not quiet,
    )
    result = run_quickstart(cfg, on_stage=_print_stage)
    if result.exports:
        console.print(outcome_table(result.exports))
    if result.bench is not None:
        from edgeseg.benchmarks.report import bench_notes, bench_table

        console.print(bench_table(result.bench))
        for line in bench_notes(result.bench):
            console.print(escape(line), highlight=False)
    teacher, student = result.evals["teacher"], result.evals["student"]
    console.print(
        f"val mIoU: teacher {100 * teacher.metrics.miou:.1f}, "
        f"student {100 * student.metrics.miou:.1f}"
    )
    for what, path in result.files.items():
        console.print(f"{what}: {escape(str(path))}", highlight=False)
    wall, cpu = result.seconds
    if result.failed:  # the run finished, but not everything in it worked: exit 3
        console.print(
            f"[bold red]done with failures[/] in {_duration(wall)}: "
            f"{escape(', '.join(result.failed))}"
        )
        raise typer.Exit(ExitCode.FAILED)
    console.print(f"[bold green]done[/] in {_duration(wall)} ({_duration(cpu)} CPU)")


def _print_stage(stage: StageResult) -> None:
    console.print(
        f"[bold green]✔[/] {stage.name:<8} {_duration(stage.wall_s):>7} wall "
        f"{_duration(stage.cpu_s):>7} CPU  {escape(stage.summary)}",
        highlight=False,
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
