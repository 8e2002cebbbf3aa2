"""A phone bench that is stopped (SIGTERM: a CI timeout, ``kill``) takes its adb clients with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import live_children

TOOL = "onnxruntime_perf_test"


def _running_the_tool(pid: int) -> bool:
    """``pid`` is an ``adb shell`` client running the phone's tool (not the push of its binary)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return False
    return "shell" in words and any(TOOL in w for w in words)


@pytest.mark.parametrize("phones", [1, 2], ids=["one-phone", "two-phones-in-threads"])
def test_a_stopped_phone_bench_kills_its_adb_clients(
    make_device, adb_server, runner_dir, onnx_model, phones
) -> None:
    """The phone's tool runs for 30 s; SIGTERM to the bench while ``adb shell`` waits on it ends
    the bench with 143 and the adb clients within seconds, instead of leaving them running the
    phones' benchmark to its end. One phone runs in the main thread, two in worker threads."""
    devices = [make_device() for _ in range(phones)]
    for phone in devices:
        phone.behaviour.tool_delay_s = 30
    args = [w for p in devices for w in ("--device", p.serial)]
    args += ["--runner-path", str(runner_dir), "--runs", "1", "--quiet"]
    bench = subprocess.Popen(
        [sys.executable, "-m", "edgeseg", "bench", str(onnx_model), *args],
        cwd=REPO,
        env=adb_server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    clients: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while len(clients) < phones and bench.poll() is None and time.monotonic() < deadline:
            clients = [c for c in live_children(bench.pid) if _running_the_tool(c)]
            time.sleep(0.1)
        assert clients, f"the bench never ran {TOOL} on the phone: {bench.communicate()}"
        bench.send_signal(signal.SIGTERM)
        out, err = bench.communicate(timeout=20)
        assert bench.returncode == 143, (bench.returncode, out, err)
        assert "Traceback" not in err, err
        deadline = time.monotonic() + 10
        while any(_running_the_tool(c) for c in clients) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [c for c in clients if _running_the_tool(c)]
        assert not left, f"adb client {left} still runs after its bench was stopped"
    finally:
        bench.kill()
        for pid in clients:
            if _running_the_tool(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
