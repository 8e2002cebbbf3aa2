"""``edgeseg models``: the registry as a table (role, parameters, compatibility, weights)."""

from __future__ import annotations

import fnmatch
import json
from typing import Annotated

import typer
from rich.table import Table

from edgeseg.cli.options import JsonOpt, make_console
from edgeseg.models import create_model, list_models, model_info

console = make_console()


def models(
    pattern: Annotated[str, typer.Argument(help="Glob filter, e.g. '*mobilenet*'")] = "*",
    as_json: JsonOpt = False,
) -> None:
    """List every registered architecture."""
    rows = []
    for name in list_models():
        if not fnmatch.fnmatch(name, pattern):
            continue
        info = model_info(name)
        params = sum(p.numel() for p in create_model(name, num_classes=21).parameters())
        rows.append(
            {
                "name": name,
                "role": info.role,
                "backbone": info.backbone,
                "params_m": round(params / 1e6, 2),
                "torchvision": info.torchvision,
                "int8_friendly": info.int8_friendly,
                "weights": sorted(info.weights),
                "backbone_weights": sorted(info.backbone_weights),
                "description": info.description,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="edgeseg models (params at 21 classes)")
    table.add_column("name", no_wrap=True)
    table.add_column("role")
    table.add_column("params M", justify="right")
    table.add_column("tv keys", justify="center")
    table.add_column("int8 ok", justify="center")
    table.add_column("weights (bb: backbone)")
    for r in rows:
        tags = ", ".join(r["weights"] + [f"bb:{t}" for t in r["backbone_weights"]])
        table.add_row(
            r["name"],
            r["role"],
            f"{r['params_m']:.2f}",
            "✓" if r["torchvision"] else "",
            "✓" if r["int8_friendly"] else "",
            tags,
        )
    console.print(table)
