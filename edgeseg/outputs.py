"""Output paths checked before any work starts.

Every command that writes (``train``/``distill``/``quickstart``/``export``/``eval --out``,
``bench --json/--csv/--plot/--report``) asks here first, from its option object, so a path that
cannot be written fails in a second with one line instead of after minutes of training or
benchmarking (or as an "internal error" from deep inside a writer). Nothing is created: a missing
folder is judged by its nearest existing ancestor, and writability is tested by really creating,
writing and removing a probe file there — the one test that root, read-only mounts, permissions
and full disks all answer the same way.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import NoReturn

from edgeseg.errors import OutputPathError

_WHY = {
    errno.EROFS: "is on a read-only filesystem",
    errno.EACCES: "is not writable (permission denied)",
    errno.EPERM: "is not writable (operation not permitted)",
    errno.ENOSPC: "has no space left",
    errno.EDQUOT: "has no space left (disk quota exceeded)",
}


def check_output_dir(path: str | os.PathLike, option: str, *, probe: bool = True) -> Path:
    """``path`` can be (or become) a folder this process writes into; returns it as a Path.

    ``probe=False`` checks only what is there (kinds), not writability: for a folder that may
    just be read when it already exists (a teacher cache) — a missing one is still probed,
    since it must be created."""
    target = Path(path)
    if target.is_symlink() and not target.exists():  # mkdir would fail on it (a file replaces it)
        _fail(option, target, "is a broken symbolic link", "remove it or pass another path")
    if target.exists() and not target.is_dir():
        _fail(option, target, "is an existing file, not a folder", "pass a folder path")
    if not target.exists() or probe:
        _check_writable(option, target, target)
    return target


def check_output_file(path: str | os.PathLike, option: str) -> Path:
    """``path`` can be written as a file (created or replaced); returns it as a Path."""
    target = Path(path)
    if target.is_dir():
        _fail(
            option,
            target,
            "is a folder, not a file",
            f"pass a file path such as {target / ('report' + _suffix(option))}",
        )
    _check_writable(option, target, target.parent)
    return target


def _check_writable(option: str, target: Path, start: Path) -> None:
    """The nearest existing ancestor of ``start`` (itself included) is a folder we can write
    (``target``, the path as given, is what the message names)."""
    folder = start
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        _fail(
            option,
            target,
            f"lies under {folder}, which is a file, not a folder",
            "pass a path in a folder",
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".edgeseg-probe-", dir=folder)
    except OSError as exc:
        _fail(option, target, f"cannot be written: {folder} {_why(exc)}", _cure(exc))
    try:  # a full disk still makes the (empty) file; its first byte, or the sync, fails
        os.write(fd, b"\0")
        os.fsync(fd)
    except OSError as exc:
        _fail(option, target, f"cannot be written: {folder} {_why(exc)}", _cure(exc))
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _why(exc: OSError) -> str:
    return _WHY.get(exc.errno or 0, f"refuses a new file ({exc.strerror or exc})")


def _cure(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space or pass a path on another disk"
    return "pass a path on a writable disk"


def _suffix(option: str) -> str:
    known = {"--json": ".json", "--csv": ".csv", "--plot": ".png", "--report": ".html"}
    return known.get(option, "")


def _fail(option: str, target: Path, why: str, cure: str) -> NoReturn:
    raise OutputPathError(f"{option} {target}: {why}; {cure}")
