"""``edgeseg eval CHECKPOINT``: mIoU, a per-class IoU table and overlay PNGs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgeseg.cli.options import (
    BatchOpt,
    JsonOpt,
    OptionalDataOpt,
    QuietOpt,
    SizeOpt,
    WorkersOpt,
    make_console,
)
from edgeseg.evaluate import EvalResult, evaluate_checkpoint

console = make_console()
ABSENT_NOTE = "n/a = class absent from both truth and prediction; left out of the mean"


def eval_checkpoint(
    checkpoint: Annotated[Path, typer.Argument(help="A .pt written by edgeseg train/distill")],
    data: OptionalDataOpt = None,
    split: Annotated[str, typer.Option(help="train | val")] = "val",
    size: SizeOpt = None,
    batch_size: BatchOpt = 4,
    visualize: Annotated[int, typer.Option(help="Write N input|truth|prediction PNGs")] = 0,
    out: Annotated[
        Optional[Path],
        typer.Option(help="Where eval.json and overlays/ go (default: next to the checkpoint)"),
    ] = None,
    workers: WorkersOpt = 2,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Evaluate CHECKPOINT on a dataset (default: the one it was trained on)."""
    out_dir = out or checkpoint.parent / f"eval_{checkpoint.stem}"
    result = evaluate_checkpoint(
        checkpoint,
        data=data,
        split=split,
        size=size,
        batch_size=batch_size,
        workers=workers,
        visualize=visualize,
        out=out_dir,
        progress=not (quiet or as_json),
    )
    if as_json:
        typer.echo(json.dumps({"report": str(result.report), **result.metrics.as_dict()}))
        return
    console.print(per_class_table(result))
    console.print(ABSENT_NOTE)
    console.print(f"report: {result.report}")
    for path in result.images:
        console.print(f"overlay: {path}")


def per_class_table(result: EvalResult) -> Table:
    m = result.metrics
    title = (
        f"{result.meta.arch} on {result.data} ({result.split}, {result.size[0]}x{result.size[1]})"
    )
    table = Table(title=escape(title), min_width=min(100, len(title) + 4))
    table.add_column("class")
    table.add_column("IoU", justify="right")
    for name, iou in zip(result.meta.classes, m.per_class_iou):
        table.add_row(name, "n/a" if math.isnan(iou) else f"{100 * iou:.2f}")
    table.add_section()
    table.add_row("[bold]mIoU", f"[bold]{100 * m.miou:.2f}")
    table.add_row("pixel acc", f"{100 * m.pixel_accuracy:.2f}")
    table.add_row("mean acc", f"{100 * m.mean_accuracy:.2f}")
    return table
