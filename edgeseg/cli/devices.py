"""``edgeseg devices``: the Android phones adb sees, with what a benchmark needs to know."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from edgeseg.cli.options import JsonOpt, make_console

console = make_console()


def devices(as_json: JsonOpt = False) -> None:
    """List attached Android devices: serial, model, SoC, ABI, Android, battery °C, state."""
    from edgeseg.benchmarks.adb import (
        list_devices,
    )  # adb is optional: imported only by this command

    found = list_devices()
    if as_json:
        typer.echo(json.dumps([d.as_dict() for d in found], indent=2))
        return
    if not found:
        console.print("No Android device attached (adb devices -l lists none).")
        return
    table = Table(title="Android devices (adb)")
    for column in ("serial", "model", "device", "SoC", "ABI", "Android", "battery °C", "state"):
        table.add_column(column, justify="right" if column == "battery °C" else "left")
    for d in found:
        temp = f"{d.battery_c:.1f}" if d.battery_c is not None else ""
        android = f"{d.android} (API {d.sdk})" if d.sdk else d.android
        state = d.state if d.ready else f"[red]{d.state}[/red]"
        table.add_row(d.serial, d.model, d.device, d.soc, d.abi, android, temp, state)
    console.print(table)
