"""``edgeseg quickstart``: the whole pipeline on built-in sample data, offline, in minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgeseg.cli.eval import ABSENT_NOTE, per_class_table
from edgeseg.cli.options import OutOpt, QuietOpt, WorkersOpt, make_console
from edgeseg.quickstart import DEFAULT_ARCH, run_quickstart

console = make_console()


def quickstart(
    out: OutOpt = Path("runs/quickstart"),
    arch: Annotated[str, typer.Option(help="Student to train")] = DEFAULT_ARCH,
    epochs: Annotated[int, typer.Option(help="Training epochs on the sample data")] = 6,
    workers: WorkersOpt = 2,
    quiet: QuietOpt = False,
) -> None:
    """Sample data → train → eval (with overlay PNGs). No network needed."""
    result = run_quickstart(out=out, arch=arch, epochs=epochs, workers=workers, progress=not quiet)
    console.print(per_class_table(result.eval))
    console.print(ABSENT_NOTE)
    console.print(
        f"trained {arch} for {epochs} epochs in {result.train.seconds:.0f}s; "
        f"checkpoint {result.train.best_path}"
    )
    for path in result.eval.images:
        console.print(f"overlay: {path}")
