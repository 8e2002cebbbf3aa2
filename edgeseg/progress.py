"""Rich progress bars used by long-running library calls (training, evaluation, benchmarks).

Library code takes a ``progress: bool`` and uses :func:`progress_bar`; when disabled (tests, CI
logs, ``--quiet``) the same code runs with a no-op bar, so there is one code path.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A Progress with description, bar, n/N, elapsed, ETA and a free-form ``info`` field."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        disable=not enabled,
        transient=False,
        refresh_per_second=4 if sys.stderr.isatty() else 0.2,
    )
    with progress:
        yield progress
