"""Option aliases shared by several commands, so each is spelled and documented once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console

DataOpt = Annotated[
    str,
    typer.Option(
        "--data",
        help="Dataset spec: voc:PATH | camvid:PATH | folder:PATH | images:PATH | sample",
    ),
]
OptionalDataOpt = Annotated[
    Optional[str],
    typer.Option("--data", help="Dataset spec (default: the one recorded in the checkpoint)"),
]
SizeOpt = Annotated[
    Optional[str],
    typer.Option("--size", help="Input size HxW, e.g. 360x480 (default: dataset/checkpoint size)"),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output directory")]
BatchOpt = Annotated[int, typer.Option("--batch-size", "-b", help="Images per batch")]
WorkersOpt = Annotated[int, typer.Option("--workers", help="DataLoader worker processes")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")]
BNMomentumOpt = Annotated[
    Optional[float],
    typer.Option(
        "--bn-momentum",
        help="BatchNorm running-stat momentum (default: the model's; MobileNetV3/EfficientNet "
        "use 0.01, which lags behind short from-scratch runs: try 0.1)",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout")]


def make_console() -> Console:
    """stdout console; piped output (CI logs, files) gets 120 columns instead of rich's 80."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


LabelsOpt = Annotated[
    Optional[str],
    typer.Option(
        help="Label-scarce: a list of training images that keep their labels (the rest of the "
        "split is unlabelled)"
    ),
]

CutMixOpt = Annotated[
    float,
    typer.Option(
        "--cutmix",
        help="Chance (0-1) that a training batch gets CutMix: each image a box of another, "
        "labels (and teacher logits) pasted with it",
    ),
]

ColorJitterOpt = Annotated[
    float,
    typer.Option(
        "--color-jitter",
        help="Photometric distortion strength (0-1): brightness, contrast, saturation x[1-s, 1+s] "
        "and hue +-s/4 on training crops; labels (and cached teacher logits) unchanged",
    ),
]


Config = TypeVar("Config")


def config_from(cls: type[Config], params: Mapping[str, Any], **mapped: Any) -> Config:
    """``cls`` (a library option dataclass) from a command's parameters: each one named like a
    field goes in as it is, ``mapped`` gives the renamed and parsed ones. So a flag that train and
    distill share needs no line in either command, and cannot be wired in one and forgotten in
    the other. Call it with ``locals()`` first thing in the command, when only the parameters are
    there."""
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(mapped) - fields
    if unknown:  # a typo here would otherwise be a TypeError deep in the dataclass
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    same = {k: v for k, v in params.items() if k in fields and k not in mapped}
    return cls(**same, **mapped)


def names_list(text: str | None) -> tuple[str, ...]:
    """'a, b,,c' → ('a', 'b', 'c'): a comma list of class names."""
    return tuple(b.strip() for b in (text or "").split(",") if b.strip())
