"""Issue 16, class 1: every output path is checked before any work starts.

Each writing command × each kind of bad path, through the real CLI: exit 2, one line on stderr
naming the option and the path, and nothing created on disk. The read-only and full
filesystems are real tmpfs mounts (root in this sandbox; skipped, with the reason, elsewhere).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edgeseg.cli import main

SMOKE = ["--epochs", "1", "--workers", "0", "--quiet", "--limit-train-batches", "1"]
STUDENT = "lraspp_mobilenet_v3_small"
CHECKPOINT = Path("no-such-run/best.pt")  # read only after the --out check


def _mount(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.fixture
def read_only(tmp_path_factory) -> Iterator[Path]:
    """A real read-only filesystem: root ignores chmod, a read-only mount it cannot."""
    yield from _mount(tmp_path_factory.mktemp("ro") / "mnt", "ro,size=64k")


@pytest.fixture
def full_disk(tmp_path_factory) -> Iterator[Path]:
    """A real filesystem with no space left: a 64 KiB tmpfs filled to the last byte."""
    for where in _mount(tmp_path_factory.mktemp("full") / "mnt", "size=64k"):
        fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:  # no space left: what this fixture is for
            pass
        finally:
            os.close(fd)
        yield where


def _tree(root: Path) -> dict[str, object]:
    """Every path under ``root`` with its bytes (None for folders, the target for links)."""

    def what(p: Path) -> object:
        return os.readlink(p) if p.is_symlink() else None if p.is_dir() else p.read_bytes()

    return {str(p.relative_to(root)): what(p) for p in root.rglob("*")}


BAD = ["existing-file", "under-a-file", "read-only", "full-disk"]


@pytest.fixture
def bad_path(request, tmp_path) -> Callable[[str], tuple[str, Path]]:
    """``make(kind)`` → (path to pass, folder that must look the same afterwards)."""

    def make(kind: str) -> tuple[str, Path]:
        if kind in ("existing-file", "under-a-file"):
            (tmp_path / "taken").write_text("not a folder\n")
            path = tmp_path / "taken" if kind == "existing-file" else tmp_path / "taken/sub/run"
            return str(path), tmp_path
        where = request.getfixturevalue("read_only" if kind == "read-only" else "full_disk")
        return str(where / "run"), where

    return make


def _commands(checkpoint: Path) -> dict[str, list[str]]:
    """Each writing command but for its --out. ``checkpoint`` need not exist: the --out check
    comes first, so a command that loaded it first would fail on it and name no --out."""
    return {
        "train": ["train", STUDENT, "--size", "32x32", *SMOKE],
        "distill": ["distill", STUDENT, "--teacher", str(checkpoint), "--size", "32x32", *SMOKE],
        "export": ["export", str(checkpoint), "--target", "onnx"],
        "eval": ["eval", str(checkpoint), "--workers", "0", "--quiet"],
        "quickstart": ["quickstart", "--distill-epochs", "1", "--skip-bench", *SMOKE],
    }


def _assert_refused(capsys, args: list[str], option: str, path: str, place: Path) -> str:
    before = _tree(place)
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert f"{option} {path}" in err, err
    assert _tree(place) == before, "something was written"
    return err


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("command", ["train", "distill", "export", "eval", "quickstart"])
def test_bad_out_is_refused_before_work(capsys, bad_path, command, kind) -> None:
    path, place = bad_path(kind)
    args = [*_commands(CHECKPOINT)[command], "--out", path]
    started = time.perf_counter()
    err = _assert_refused(capsys, args, "--out", path, place)
    assert time.perf_counter() - started < 10, "refused only after work"
    why = {
        "existing-file": "is an existing file",
        "under-a-file": "which is a file",
        "read-only": "read-only filesystem",
        "full-disk": "no space left",
    }[kind]
    assert why in err, err


def test_teacher_cache_under_a_file(capsys, tmp_path) -> None:
    (tmp_path / "taken").write_text("x")
    cache = str(tmp_path / "taken" / "cache")
    args = [*_commands(CHECKPOINT)["distill"], "--out", str(tmp_path / "run")]
    _assert_refused(capsys, [*args, "--teacher-cache", cache], "--teacher-cache", cache, tmp_path)


@pytest.fixture
def no_measuring(monkeypatch) -> list[object]:
    """A spy on the measuring part of run_bench: any call is recorded, and fails the run."""
    import edgeseg.benchmarks.bench as bench

    calls: list[object] = []

    def spy(*args, **kwargs):
        calls.append(args)
        raise AssertionError("bench measured before checking its output paths")

    monkeypatch.setattr(bench, "_one", spy)
    monkeypatch.setattr(bench, "dataset_classes", spy)
    return calls


@pytest.mark.parametrize("kind", ["under-a-file", "read-only", "full-disk"])
@pytest.mark.parametrize("option", ["--json", "--csv", "--plot", "--report"])
def test_bench_report_paths_fail_before_any_benchmark(
    capsys, bad_path, no_measuring, tmp_path, option, kind
) -> None:
    folder, place = bad_path(kind)
    path = str(Path(folder) / "bench.out")
    args = ["bench", str(tmp_path / "model.onnx"), "--data", "sample", option, path]
    started = time.perf_counter()
    _assert_refused(capsys, args, option, path, place)
    assert time.perf_counter() - started < 2
    assert no_measuring == []


def test_bench_report_path_that_is_a_folder(capsys, no_measuring, tmp_path) -> None:
    err = _assert_refused(
        capsys,
        ["bench", str(tmp_path / "m.onnx"), "--json", str(tmp_path)],
        "--json",
        str(tmp_path),
        tmp_path,
    )
    assert "is a folder" in err and no_measuring == []


def test_broken_symlink_as_out(capsys, tmp_path) -> None:
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "gone")
    args = [*_commands(CHECKPOINT)["train"], "--out", str(link)]
    err = _assert_refused(capsys, args, "--out", str(link), tmp_path)
    assert "broken symbolic link" in err


def test_a_good_out_passes_the_check_and_leaves_nothing(capsys, tmp_path) -> None:
    """The check creates nothing, not even its probe: the next error is the missing checkpoint."""
    good = tmp_path / "new" / "eval"
    code = main(["eval", str(tmp_path / "missing.pt"), "--quiet", "--out", str(good)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "missing.pt" in err and "--out" not in err, err
    assert list(tmp_path.iterdir()) == []
