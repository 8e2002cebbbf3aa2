"""``edgeseg devices``: the Android phones adb sees; ``--setup`` readies their runner tools,
``--check`` says per phone what is ready for a benchmark and what is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgeseg.cli.options import JsonOpt, QuietOpt, make_console

console = make_console()


def devices(
    as_json: JsonOpt = False,
    setup: Annotated[
        bool, typer.Option("--setup", help="Download, verify, cache and push the runner tools")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Per phone: runners, app, ABI, thermal, space, battery")
    ] = False,
    device: Annotated[
        Optional[list[str]],
        typer.Option(help="--setup/--check: SERIAL | ALIAS | all (repeatable; default all)"),
    ] = None,
    runners_from: Annotated[
        Optional[str],
        typer.Option(help="--setup offline: a mirror folder or file:// URL with SHA256SUMS"),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """List attached Android devices: serial, model, SoC, ABI, Android, battery °C, state."""
    from edgeseg.benchmarks.adb import list_devices  # adb is optional: imported only here
    from edgeseg.benchmarks.adb.provision import SetupOptions

    if (device or runners_from) and not (setup or check):
        raise typer.BadParameter("--device and --runners-from go with --setup or --check")
    if runners_from and not setup:
        raise typer.BadParameter("--runners-from goes with --setup")
    selectors = tuple(device or ("all",))
    if setup:  # checked before anything runs: a bad mirror folder fails here
        options = SetupOptions(selectors, runners_from, progress=not quiet)
        _setup(options, as_json)
        if not check:
            return
    if check:
        _check(selectors, as_json)
        return
    _list(list_devices(), as_json)


def _list(found: list, as_json: bool) -> None:
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


def _setup(options: Any, as_json: bool) -> None:
    from edgeseg.benchmarks.adb.provision import setup

    done = setup(options)
    rows = [
        {
            "serial": r.device.serial,
            "abi": r.device.abi,
            "tool": t.tool,
            "version": t.entry["version"],
            "sha256": t.entry["sha256"],
            "verified_by": t.entry["verified_by"],
            "source": t.entry["source"],
            "downloaded": t.fetched is not None,
            "resumed_from": t.fetched.resumed_from if t.fetched else None,
            "cache": str(t.path),
            "pushed_to": t.pushed_to,
        }
        for r in done
        for t in r.tools
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Runner tools set up")
    columns = ("serial", "ABI", "tool", "version", "sha256", "verified by", "fetch", "on phone")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        got = "downloaded" if row["downloaded"] else "already cached"
        if row["resumed_from"]:
            got = f"resumed at {row['resumed_from']} B"
        table.add_row(
            row["serial"],
            row["abi"],
            row["tool"],
            row["version"],
            row["sha256"][:12] + "…",
            row["verified_by"],
            got,
            "pushed" if row["pushed_to"] else "no",
        )
    console.print(table)
    for cache in dict.fromkeys(str(Path(row["cache"]).parent) for row in rows):
        console.print(f"cache: {escape(cache)}", highlight=False)
    for pushed in dict.fromkeys(str(row["pushed_to"]).rsplit("/", 1)[0] for row in rows):
        console.print(f"on the phones: {pushed}", highlight=False)


def _check(selectors: tuple[str, ...], as_json: bool) -> None:
    from edgeseg.benchmarks.adb.devices import list_devices, resolve_devices
    from edgeseg.benchmarks.adb.readiness import check_device

    listed = list_devices()
    phones: dict[str, object] = {}
    for selector in selectors:  # an exact serial is reported even when it is not ready
        exact = [d for d in listed if d.serial == selector]
        found = listed if selector == "all" else exact or resolve_devices(selector, listed)
        phones.update({d.serial: d for d in found})
    reports = [check_device(d) for d in phones.values()]
    if as_json:
        typer.echo(json.dumps(reports, indent=2))
        return
    if not reports:
        console.print("No Android device attached (adb devices -l lists none).")
        return
    console.print(_phones_table(reports))
    console.print(_runtimes_table(reports))


def _phones_table(reports: list[dict]) -> Table:
    table = Table(title="Phones: ready for edgeseg bench?")
    for column in ("serial", "model", "ABI", "thermal", "°C", "free MB", "battery", "app"):
        table.add_column(
            column, justify="right" if column in ("°C", "free MB") else "left", overflow="fold"
        )
    for r in reports:
        if not r["ready"]:
            table.add_row(r["serial"], r["model"], "", "", "", "", "", f"[red]{r['state']}[/red]")
            continue
        thermal = r["thermal"] or "?"
        app = r["app"]["version_name"] if r["app"]["installed"] else "[yellow]not installed[/]"
        table.add_row(
            r["serial"],
            r["model"],
            r["abi"],
            thermal if thermal in ("none", "light") else f"[red]{thermal}[/red]",
            _num(r["temp_c"], 1),
            _num(r["free_mb"], 0),
            f"{r['battery_pct']}%" if r["battery_pct"] is not None else "?",
            escape(app) if r["app"]["installed"] else app,
        )
    return table


def _runtimes_table(reports: list[dict]) -> Table:
    table = Table(title="Runners per phone (tool: cached / pushed; app: vs the exporter here)")
    columns = ("serial", "runtime", "tool", "cached", "pushed", "app", "exporter", "bench uses")
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in reports:
        for runtime, x in (r.get("runtimes") or {}).items():
            cached = (x["version"] or "yes") if x["cached"] else "[yellow]no[/]"
            app = x["app_version"] or "—"
            if x["app_vs_exporter"] == "differs":
                app = f"[yellow]{app} (differs)[/]"
            uses = escape(x["will_use"]) if x["will_use"] else "[red]none: --setup or app[/]"
            table.add_row(
                r["serial"],
                runtime,
                x["tool"],
                cached,
                x["pushed"],
                app,
                x["exporter_version"] or "not installed",
                uses,
            )
    return table


def _num(value: float | None, digits: int) -> str:
    return "?" if value is None else f"{value:.{digits}f}"
