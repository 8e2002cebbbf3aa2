"""Bad bytes are refused with one typed error, never a crash: random bytes, truncated files and
a crafted ExecuTorch header.

Why a child process: ExecuTorch's ``load_program`` aborts the whole process (SIGABRT) on a
program whose file identifier is not UTF-8 (its error message cannot be decoded), so a test that
let such a file through would kill pytest. The header check in :mod:`edgeseg.runtimes.executorch`
runs on every load, whoever asks; here the loader and the artifact teacher must both exit cleanly
with the refusal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgeseg import runtimes
from edgeseg.runtimes import ArtifactLoadError
from tests.runtimes.conftest import random_file

REPO = Path(__file__).resolve().parents[2]
REFUSED = 3  # the children's exit code for "refused cleanly"
OPEN_ALL = """
import sys
from edgeseg import runtimes
for path in sys.argv[1:]:
    try:
        runtimes.load(path)
        print(path, "opened", flush=True)
    except runtimes.ArtifactLoadError as exc:
        print(path, "refused:", exc, flush=True)
sys.exit(3)
"""
TEACHER = """
import sys
from edgeseg.distill.teachers import build_teacher
from edgeseg.errors import DistillError
try:
    build_teacher(sys.argv[1])
except DistillError as exc:
    print("refused:", exc, flush=True)
    sys.exit(3)
"""


def child(code: str, *paths: Path) -> dict[str, str]:
    """Run ``code`` on ``paths`` in a fresh interpreter; {path: its line}. A signal is a failure."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == REFUSED, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)


def crafted_pte(good: Path, folder: Path) -> Path:
    """A real program whose file identifier is not 'ET..' and not UTF-8 either: ExecuTorch's
    own loader aborts the process on it (SIGABRT, exit 134)."""
    data = good.read_bytes()
    path = folder / "crafted.pte"
    path.write_bytes(data[:4] + b"\xcf\xfe\xff\xe0" + data[8:])
    return path


@pytest.mark.parametrize("suffix", [".pte", ".tflite", ".onnx", ".pt", ".pth", ".ptl"])
def test_random_bytes_are_refused(suffix, tmp_path) -> None:
    library = {".pte": "executorch", ".tflite": "ai_edge_litert", ".onnx": "onnxruntime"}
    if suffix in library:
        pytest.importorskip(library[suffix])
    path = random_file(tmp_path, f"junk{suffix}")
    with pytest.raises(ArtifactLoadError, match="junk"):
        runtimes.load(path)


def test_truncated_and_crafted_files_are_refused_without_a_crash(tiny, tmp_path) -> None:
    paths = []
    for name in ("executorch", "tflite", "onnxruntime", "torchscript"):
        source = tiny(name)
        cut = tmp_path / f"cut{source.suffix}"
        cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
        paths.append(cut)
    paths.append(crafted_pte(tiny("executorch"), tmp_path))
    lines = child(OPEN_ALL, *paths)
    for path in paths:
        assert lines[str(path)].startswith("refused: ") and path.name in lines[str(path)], lines
    assert "is not an ExecuTorch program (file identifier" in lines[str(paths[-1])]


def test_the_artifact_teacher_refuses_a_crafted_pte(tiny, tmp_path) -> None:
    path = crafted_pte(tiny("executorch"), tmp_path)
    line = child(TEACHER, path)["refused:"]
    assert line.startswith(f"Teacher {path} is not a model executorch can load: ")
    assert "is not an ExecuTorch program" in line
