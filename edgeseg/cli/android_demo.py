"""``edgeseg android-demo add|list|install``: models into the Android demo, it onto a phone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from edgeseg.apps.android_demo import add_models, check_app, install, read_index
from edgeseg.cli.options import JsonOpt, make_console

console = make_console()
BARE_FLAGS = ("--android-demo",)  # options whose PATH value may be left out


def bare_flags(args: list[str]) -> list[str]:
    """``--android-demo`` with no PATH after it → ``--android-demo=`` (the default app).

    Typer has no optional-value options; an empty value is how the command spells "default".
    """
    out = []
    for i, arg in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else None
        bare = nxt is None or nxt.startswith("-")
        out.append(f"{arg}=" if arg in BARE_FLAGS and bare else arg)
    return out


app = typer.Typer(
    name="android-demo",
    help="The Android demo app (android_demo/): add models to it, build and install it.",
    no_args_is_help=True,
)
AppOpt = Annotated[
    Optional[Path],
    typer.Option("--app", help="The android_demo folder (default: the one in this checkout)"),
]


@app.command("add")
def add(
    artifacts: Annotated[
        list[Path],
        typer.Argument(
            help=".tflite / .pte / .onnx files written by edgeseg export, or export folders "
            "(e.g. runs/quickstart/export: every file in it the app runs)"
        ),
    ],
    app_dir: AppOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy ARTIFACTS and their sidecars into the app's assets/models and its index."""
    results, notes = add_models(list(artifacts), app_dir)
    if as_json:
        rows = [
            {
                "model": str(r.model),
                "label": r.label,
                "index": str(r.index),
                "golden": str(r.golden) if r.golden else None,
            }
            for r in results
        ]
        typer.echo(json.dumps(rows))
        return
    for note in notes:
        console.print(f"[dim]{note}[/]")
    for r in results:
        golden = "sample mask written" if r.golden else r.note
        console.print(f"added [bold]{r.model.name}[/] ({r.label}) → {r.model.parent}; {golden}")


@app.command("list")
def list_models(app_dir: AppOpt = None, as_json: JsonOpt = False) -> None:
    """The models the app's switcher shows, in order."""
    rows = read_index(app_dir)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"models in {check_app(app_dir) / 'app/src/main/assets/models'}")
    for name in ("file", "label", "input", "size"):
        table.add_column(name)
    for r in rows:
        size = "x".join(str(v) for v in r.get("input_size", []))
        table.add_row(r["file"], r.get("label", ""), size, f"{r.get('bytes', 0) / 1e6:.2f} MB")
    console.print(table)


@app.command("install")
def install_app(
    device: Annotated[
        Optional[str],
        typer.Option(help="adb serial, part of the phone's model/device name (e.g. pixel), or all"),
    ] = None,
    app_dir: AppOpt = None,
) -> None:
    """Build the app with its Gradle wrapper (needs ANDROID_HOME) and install it with adb."""
    result = install(device, app_dir)
    where = ", ".join(result.serials) or "the adb default device"
    console.print(f"installed {result.apk} on {where}")
