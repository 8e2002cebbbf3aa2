"""A drive held out of training: the shared CamVid seen without one drive's frames.

Why: CamVid's val split is one drive that also fills 204 of the 367 training frames, so val
flatters every recipe; the shared README asks that choices which must generalise also be checked
on a drive none of the training frames come from. The view is links and lists only (nothing is
copied), safe for studies that start side by side.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.errors import DataError

SUBSETS = ("train_10pct.txt", "train_25pct.txt")  # the shared fixed labelled subsets


def heldout_view(camvid: Path, drive: str, out: Path) -> str:
    """A CamVid folder (links to the shared files, new lists) whose train split lacks ``drive``
    and whose val split is that drive's training frames — the shared README's check that a
    recipe generalises to a drive none of its training frames come from. The labelled subsets
    keep only their frames of the remaining drives."""
    lines = [line for line in (camvid / "train.txt").read_text().splitlines() if line.strip()]

    def of_drive(line: str) -> bool:
        return Path(line.split()[0]).name.startswith(f"{drive}_")

    held = [line for line in lines if of_drive(line)]
    if not held:
        raise DataError(
            f"--heldout {drive}: no training frame of that drive in {camvid / 'train.txt'}; "
            "name a drive prefix such as 0006R0"
        )
    view = out / f"camvid_without_{drive}"
    (view / "splits").mkdir(parents=True, exist_ok=True)
    for folder in ("train", "trainannot"):
        link = view / folder
        if not link.exists():
            with contextlib.suppress(FileExistsError):  # another study made it just now
                link.symlink_to(camvid / folder, target_is_directory=True)
    _publish(view / "train.txt", [x for x in lines if not of_drive(x)])
    _publish(view / "val.txt", held)
    for subset in SUBSETS:
        kept = [x for x in (camvid / "splits" / subset).read_text().splitlines() if x.strip()]
        _publish(view / "splits" / subset, [x for x in kept if not of_drive(x)])
    return f"camvid:{view}"


def _publish(path: Path, lines: list[str]) -> None:
    """Write a list the way concurrent studies can share it: untouched when it already says
    this, else replaced whole — a study starting beside a running one must never read it empty
    (truncated and rewritten in place, it was: "No images found" or a short subset)."""
    text = "\n".join(lines) + "\n"
    if path.is_file() and path.read_text() == text:
        return
    with atomic_path(path) as tmp:
        tmp.write_text(text)
