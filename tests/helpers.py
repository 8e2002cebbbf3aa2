"""Small on-disk fixtures shared by CLI and training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_folder_dataset(
    root: Path,
    n: int = 6,
    size: tuple[int, int] = (40, 48),
    classes: tuple[str, ...] = ("bg", "thing", "stuff"),
) -> Path:
    """``folder:`` layout: images/*.png + masks/*.png + classes.txt, learnable stripes."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    h, w = size
    for i in range(n):
        mask = np.zeros((h, w), np.uint8)
        mask[:, w // 3 : 2 * w // 3] = 1
        mask[h // 2 :, :] = 2
        mask[0, 0] = 255
        image = (rng.integers(0, 40, (h, w, 3)) + mask[..., None] * 60).clip(0, 255)
        Image.fromarray(image.astype(np.uint8)).save(root / "images" / f"img{i:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"img{i:02d}.png")
    (root / "classes.txt").write_text("\n".join(classes) + "\n")
    return root


def live_children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc; zombies are already gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "(comm)": state, ppid, …
        if entry.name.isdigit() and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def typed_options(*types: str) -> list[tuple[list[str], str, str, list[str]]]:
    """(command path, option, type, placeholder arguments) for every option of every ``edgeseg``
    command (sub-commands included) whose type is one of ``types`` ("int", "float"), so an
    option added later is covered by the sweeps without editing them."""
    import typer.main

    from edgeseg.cli import app

    found = []

    def walk(command, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        params = getattr(command, "params", [])
        arguments = ["x" for p in params if p.param_type_name == "argument"]
        for param in params:
            if param.param_type_name == "option" and param.bare_type() in types:
                found.append((path, param.opts[0], param.bare_type(), arguments))

    walk(typer.main.get_command(app), [])
    return found
