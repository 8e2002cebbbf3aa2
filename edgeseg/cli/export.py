"""``edgeseg export CHECKPOINT --target …``: artifacts for phone runtimes, each parity-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from edgeseg.apps.android_demo import add_exports
from edgeseg.cli.options import JsonOpt, SizeOpt, make_console
from edgeseg.converters.base import CALIB_IMAGES
from edgeseg.errors import ExitCode
from edgeseg.export import ExportOutcome, check_int8_only, export_checkpoint
from edgeseg.quantization import QuantMode
from edgeseg.sidecar import read_sidecar

console = make_console()
STATUS = {"passed": "✅ passed", "below": "❎ below", "failed": "❌ failed", "skipped": "– skipped"}


def export(
    checkpoint: Annotated[Path, typer.Argument(help="A .pt written by edgeseg train/distill")],
    target: Annotated[
        str,
        typer.Option(
            help="torchscript | executorch | onnx | tflite | coreml | all (comma list allowed)"
        ),
    ] = "all",
    quantize: Annotated[
        str, typer.Option(help=" | ".join(QuantMode.values()))
    ] = QuantMode.NONE.value,
    calib_data: Annotated[
        Optional[str],
        typer.Option(help="Calibration dataset spec (default: the checkpoint's dataset)"),
    ] = None,
    calib_images: Annotated[int, typer.Option(help="Calibration images for int8")] = CALIB_IMAGES,
    per_channel: Annotated[
        bool, typer.Option("--per-channel/--per-tensor", help="int8 weight scales")
    ] = True,
    size: SizeOpt = None,
    layout: Annotated[
        str, typer.Option(help="nchw | nhwc (channel-last input and logits; TFLite only)")
    ] = "nchw",
    input: Annotated[
        str, typer.Option("--input", help="float | uint8 (uint8: normalisation in the graph)")
    ] = "float",
    output: Annotated[
        str, typer.Option(help="logits | mask (mask: argmax in the graph, uint8)")
    ] = "logits",
    parity_images: Annotated[int, typer.Option(help="Validation images for parity")] = 8,
    reference_images: Annotated[
        Optional[int],
        typer.Option(
            help="Checkpoint's reference mIoU for bench's gates: first N val images "
            "(default: all; 0: none)"
        ),
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option(help="Output directory (default: next to the checkpoint)")
    ] = None,
    as_json: JsonOpt = False,
    explain: Annotated[
        bool,
        typer.Option(help="Per target: ops delegated / quantized / left float (why int8 is slow)"),
    ] = False,
    android_demo: Annotated[
        Optional[str],
        typer.Option(
            "--android-demo",
            metavar="[PATH]",
            help="Also add the artifacts the Android demo runs to it (alone: android_demo/ here)",
        ),
    ] = None,
) -> None:
    """Export CHECKPOINT and check each artifact against the PyTorch model."""
    check_int8_only(quantize, per_channel, calib_images)
    outcomes = export_checkpoint(
        checkpoint,
        target,
        quantize,
        size=size,
        input_dtype=input,
        output=output,
        per_channel=per_channel,
        layout=layout.lower(),
        calib_data=calib_data,
        calib_images=calib_images,
        parity_images=parity_images,
        reference_images=reference_images,
        out=out,
        explain=explain,
    )
    if as_json:
        typer.echo(json.dumps([o.as_dict() for o in outcomes]))
    else:
        console.print(outcome_table(outcomes))
        console.print(reference_line(outcomes))
        if explain:
            console.print(explain_table(outcomes))
    if android_demo is not None:
        done = [o.result.path for o in outcomes if o.ok]
        for line in add_exports(done, android_demo or None):
            typer.echo(line, err=as_json)
    if any(o.failed or o.below for o in outcomes) or not any(o.ok for o in outcomes):
        raise typer.Exit(ExitCode.FAILED)  # a target or its parity gate failed, or none exported


def reference_line(outcomes: list[ExportOutcome]) -> str:
    """What the sidecars carry for ``edgeseg bench``'s accuracy gates, or why nothing."""
    done = [o.result for o in outcomes if o.ok]
    if not done:
        return "reference mIoU: — (nothing exported)"
    ref = read_sidecar(done[0].path, validate=False).get("reference")
    if ref is None:
        why = [n for n in done[0].notes if n.startswith("no reference")]
        return why[0] if why else "no reference mIoU"
    miou = "n/a" if ref["miou"] is None else f"{100 * ref['miou']:.2f}"
    return (
        f"reference mIoU (the checkpoint, eager): {miou} on {ref['dataset']} {ref['split']}, "
        f"{ref['images']} images at {ref['size'][0]}x{ref['size'][1]}; in every sidecar, for "
        "edgeseg bench --max-miou-drop / --min-miou-ratio"
    )


def explain_table(outcomes: list[ExportOutcome]) -> Table:
    """One row per target: what its runtime delegates, quantizes and leaves float."""
    table = Table(title="edgeseg export --explain", show_lines=True)
    table.add_column("target")
    table.add_column("quant")
    table.add_column("what runs where")
    for o in outcomes:
        quant = o.result.quantize if o.result else o.quantize
        table.add_row(o.target, quant, "\n".join(o.explain or []))
    return table


def outcome_table(outcomes: list[ExportOutcome]) -> Table:
    table = Table(title="edgeseg export")
    for name, justify in (
        ("target", "left"),
        ("quant", "left"),
        ("file", "left"),
        ("size", "right"),
        ("time", "right"),
        ("agree", "right"),
        ("max|Δ|", "right"),
        ("ΔmIoU", "right"),
        ("parity", "left"),
    ):
        table.add_column(name, justify=justify)
    for o in outcomes:
        p, r = o.parity, o.result
        shown = p.reason and (p.status == "failed" or r is None)  # why it was not exported
        status = STATUS[p.status] + (f": {p.reason}" if shown else "")
        table.add_row(
            o.target,
            r.quantize if r else o.quantize,
            r.path.name if r else "—",
            f"{r.bytes / 1e6:.2f} MB" if r else "—",
            f"{r.seconds:.1f} s" if r else "—",
            "—" if p.agreement is None else f"{100 * p.agreement:.2f}%",
            "—" if p.max_abs_diff is None else f"{p.max_abs_diff:.2e}",
            "—" if p.miou_delta is None else f"{100 * p.miou_delta:+.2f}",
            status,
        )
    return table
