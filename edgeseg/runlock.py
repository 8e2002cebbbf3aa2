"""One writer per run folder: a second training run into a folder another run is writing is
refused, in one line, instead of interleaving with it.

Without it, two ``edgeseg train``/``distill`` commands given the same ``--out`` (a sweep script
that starts a seed twice) both write ``best.pt``, ``last.pt`` and ``history.jsonl``: the later one
replaces the earlier one's finished results with its own first epochs, and neither says so.

The lock is ``flock`` on ``OUT/.edgeseg.lock``: the kernel drops it when its process ends, however
it ends (``kill -9`` included), so a dead run never leaves a stale lock behind. The file holds the
writer's PID for the message and is removed when the run ends. A rerun into a finished run's
folder is not refused: only a live writer is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from edgeseg.errors import OutputPathError

LOCK_NAME = ".edgeseg.lock"


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s run lock while the block runs (the folder must exist); raise
    :class:`OutputPathError` at once if another live process holds it."""
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputPathError(
                f"{folder}: another run (PID {holder}) is writing into this folder; "
                "wait for it to end or give another --out"
            ) from None
        # the holder before us may have removed the file after we opened it: lock the live one
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)
