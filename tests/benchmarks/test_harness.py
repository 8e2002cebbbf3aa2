"""Isolation: a runtime that aborts, a corrupt file, an unknown type — one failed row each, and
the benchmark (and this test process) carries on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.benchmarks.aborting_runner  # noqa: F401  (registers "test-abort" here too)
from edgeseg.benchmarks.base import BenchError, get_runner
from edgeseg.benchmarks.bench import run_bench
from edgeseg.benchmarks.options import AccuracyOptions, BenchOptions, RunRequest, TimingOptions
from tests.benchmarks.conftest import random_file
from tests.conftest import REPO
from tests.helpers import live_children

SPEC = TimingOptions(warmup=0, runs=2)


def test_abort_in_the_runtime_is_a_failed_row(tmp_path) -> None:
    artifact = tmp_path / "m.abort"
    artifact.write_bytes(b"x")
    row = get_runner("test-abort").run(artifact, RunRequest(timing=SPEC))
    assert row.status == "failed" and "SIGABRT" in row.reason
    assert "about to abort like a native runtime" in row.reason  # the runtime's last words


def test_random_bytes_pte_fails_before_executorch_sees_it(tmp_path) -> None:
    """ExecuTorch's load_program aborts the process on random bytes (exit 134): the header
    check turns that into a readable row."""
    row = get_runner("executorch").run(random_file(tmp_path, "junk.pte"), RunRequest(timing=SPEC))
    assert row.status == "failed" and "not an ExecuTorch program" in row.reason


def test_timeout_stops_the_child(exports) -> None:
    timing = TimingOptions(warmup=0, runs=2, timeout_s=0.01)
    row = get_runner("onnxruntime").run(exports["onnx"], RunRequest(timing=timing))
    assert row.status == "failed" and row.reason.startswith("no result within 0.01 s: stopped")


def test_bad_files_become_rows_and_the_rest_still_runs(exports, pte, tmp_path) -> None:
    bad = [random_file(tmp_path, n) for n in ("junk.pte", "junk.onnx", "junk.tflite", "x.pt")]
    unknown = random_file(tmp_path, "notes.xyz")
    paths = [exports["onnx"], *bad, unknown, tmp_path / "missing.onnx", pte]
    report = run_bench(paths, BenchOptions(SPEC, progress=False))
    rows = {Path(r.artifact).name: r for r in report.results}
    assert rows[exports["onnx"].name].status == "ok" and rows["conv.pte"].status == "ok"
    for name in ("junk.pte", "junk.onnx", "junk.tflite", "x.pt", "notes.xyz", "missing.onnx"):
        assert rows[name].status == "failed" and rows[name].reason, name
    assert "no host runner for '.xyz'" in rows["notes.xyz"].reason
    assert "no such file" in rows["missing.onnx"].reason


def test_class_mismatch_is_a_row_with_the_fix(exports, camvid_dir) -> None:
    accuracy = AccuracyOptions(data=f"camvid:{camvid_dir}", images=1)
    options = BenchOptions(SPEC, accuracy, progress=False)
    (row,) = run_bench([exports["onnx"]], options).results
    assert row.status == "failed"
    assert "predicts 5 classes" in row.reason and "has 11" in row.reason
    assert "--class-map" in row.reason


def test_command_level_bad_input_raises(tmp_path, exports) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match="holds no model files"):
        run_bench([tmp_path / "empty"], BenchOptions(progress=False))
    with pytest.raises(BenchError, match="no host runner 'nope'"):
        run_bench([exports["onnx"]], BenchOptions(runner="nope", progress=False))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; Linux only")
def test_a_stopped_bench_leaves_no_measuring_child(tmp_path) -> None:
    """SIGTERM to the bench (a CI timeout, ``kill``) ends its measuring child too, instead of
    leaving it running on an orphaned core."""
    artifact = tmp_path / "m.hang"
    artifact.write_bytes(b"x")
    script = (
        "import sys, tests.benchmarks.aborting_runner\n"
        "from pathlib import Path\n"
        "from edgeseg.benchmarks.base import get_runner\n"
        "from edgeseg.benchmarks.options import RunRequest, TimingOptions\n"
        "get_runner('test-hang').run(Path(sys.argv[1]), RunRequest(timing=TimingOptions()))\n"
    )
    bench = subprocess.Popen([sys.executable, "-c", script, str(artifact)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not (children := live_children(bench.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert children, "the measuring child never started"
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(10) == -signal.SIGTERM
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [c for c in children if Path(f"/proc/{c}").exists()]
        assert not left, f"measuring child {left} still runs after its bench was stopped"
    finally:
        bench.kill()
        for child in live_children(bench.pid):
            os.kill(child, signal.SIGKILL)
