"""A full disk is one line, exit 2, no temp left, never a signal (issue 16, class 2).

Each case runs the real CLI in a child process (a regression would abort it, not pytest) on a
disk too small for what it writes: a real 256 KiB tmpfs when this runs as root and may mount
(export refuses it up front from its size estimate; a checkpoint write fails mid-way with
ENOSPC), and always a file-size limit (``RLIMIT_FSIZE`` with SIGXFSZ ignored: a write past it
fails with EFBIG while the disk looks empty, so the probe of ``edgeseg.outputs`` and the size
estimate pass and the failure really comes mid-write, where ``torch.jit.save`` used to abort
the process: SIGABRT, exit 134, a partial temp left).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edgeseg.atomic import is_temp
from edgeseg.errors import ExitCode

LIMIT = 256 * 1024
Disk = tuple[Path, Callable[[], None] | None]


def _limit_file_size() -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.fixture(params=["tmpfs", "rlimit"])
def small_disk(request, tmp_path) -> Iterator[Disk]:
    """(folder, preexec for the child): a real tiny tmpfs, or a file-size limit."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if request.param == "rlimit":
        if not hasattr(os, "fork") or sys.platform == "darwin":
            pytest.skip("RLIMIT_FSIZE simulation needs Linux")
        yield folder, _limit_file_size
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a real tmpfs needs root (the rlimit case still runs)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={LIMIT}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder, None
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def edgeseg(disk: Disk, *args) -> subprocess.CompletedProcess:
    _, preexec = disk
    return subprocess.run(
        [sys.executable, "-m", "edgeseg", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
        check=False,
    )


def assert_no_space(result: subprocess.CompletedProcess, folder: Path) -> None:
    assert result.returncode == ExitCode.BAD_INPUT, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: no space left on ") and str(folder) in lines[0], lines
    assert "free some space" in lines[0]
    debris = [p for p in folder.rglob("*") if is_temp(p)]
    assert debris == [], debris


def test_export_torchscript_onto_a_full_disk(small_disk, tiny_checkpoint) -> None:
    """torch.jit.save used to abort the process here (SIGABRT, exit 134, a partial temp)."""
    folder, _ = small_disk
    out = folder / "export"
    result = edgeseg(
        small_disk,
        "export",
        tiny_checkpoint,
        "--target",
        "torchscript",
        "--parity-images",
        "0",
        "--out",
        out,
    )
    assert_no_space(result, out)
    assert not list(out.glob("*.pt")), list(out.iterdir())


def test_train_checkpoint_onto_a_full_disk(small_disk) -> None:
    folder, _ = small_disk
    out = folder / "run"
    result = edgeseg(
        small_disk,
        "train",
        "lraspp_mobilenet_v3_small",
        "--data",
        "sample",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--size",
        "64x80",
        "--workers",
        "0",
        "--quiet",
        "--limit-train-batches",
        "1",
        "--out",
        out,
    )
    assert_no_space(result, out)
    assert not (out / "best.pt").exists() and not (out / "last.pt").exists()
