"""Run one host measurement in a child process, so a runtime that aborts costs one row.

This is how every host runner's :meth:`~edgeseg.benchmarks.runners.host.HostRunner.run` runs:
the child calls :func:`edgeseg.benchmarks.measure.measure` with the runner and the request.

ExecuTorch's loader aborts the whole process on some bad files (SIGABRT), native runtimes can
segfault, and every runtime keeps memory it never returns: a fresh child per artifact isolates
all three and makes the peak RSS that artifact's own. The child is a plain
``python -m edgeseg.benchmarks.harness`` (not multiprocessing's spawn, which would re-import the
caller's ``__main__`` — for the CLI, all of edgeseg and torch — into every child): it reads the
runner, the artifact and the request pickled on stdin (unpickling the runner imports its module,
so a runner registered outside edgeseg works too) and sends progress and one result back over a
pipe. A child that dies or overruns ``request.timing.timeout_s`` becomes a ``failed``
:class:`~edgeseg.benchmarks.base.RunResult` naming the signal or exit code and the runtime's last
words. The child's stdout/stderr go to a log file (runtimes print banners and cpuinfo chatter),
so the table and the progress bar stay clean.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import edgeseg
from edgeseg.benchmarks.base import Progress, RunnerUnavailable, RunResult
from edgeseg.benchmarks.measure import artifact_bytes, measure
from edgeseg.benchmarks.options import RunRequest
from edgeseg.errors import one_line

if TYPE_CHECKING:  # the host runners call this module
    from edgeseg.benchmarks.runners.host import HostRunner


def run_isolated(
    runner: HostRunner,
    artifact: Path,
    request: RunRequest,
    progress: Progress | None = None,
) -> RunResult:
    """Measure ``artifact`` with host runner ``runner`` in a child process; never raises for
    a bad artifact (the row says what went wrong)."""
    timeout_s = request.timing.timeout_s
    receive_fd, send_fd = os.pipe()
    parent = os.getpid()
    receive = Connection(receive_fd, writable=False)
    with tempfile.TemporaryFile() as log:
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "edgeseg.benchmarks.harness", str(send_fd), str(parent)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(send_fd,),
                env=_child_env(),
            )
        finally:
            os.close(send_fd)
        with receive:
            child.stdin.write(pickle.dumps((runner, str(artifact), request)))
            child.stdin.close()
            message = _wait(child, receive, progress, timeout_s)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.seek(0)
        last = _last_line(log.read().decode(errors="replace"))
    if message is None:
        said = f" (last output: {last})" if last else ""
        return _failed(runner.name, artifact, _death(child.returncode, timeout_s) + said)
    kind, payload = message
    if kind == "result":
        return payload
    row = _failed(runner.name, artifact, payload)
    row.status = "skipped" if kind == "skipped" else "failed"
    return row


def _child_env() -> dict[str, str]:
    """The child imports this very ``edgeseg`` package, wherever it was imported from."""
    root = str(Path(edgeseg.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _wait(child: subprocess.Popen, receive: Connection, progress, timeout_s):
    """The child's final message, or None when it died or ran out of time (then killed)."""
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while True:
        if receive.poll(0.2):
            try:
                kind, payload = receive.recv()
            except (EOFError, OSError):
                return None
            if kind != "progress":
                return kind, payload
            if progress:
                progress(*payload)
        elif child.poll() is not None:
            return None
        if deadline and time.monotonic() > deadline:
            child.kill()
            return None


def _death(code: int | None, timeout_s: float | None) -> str:
    if code == -signal.SIGKILL and timeout_s:
        return f"no result within {timeout_s:g} s: stopped"
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (ExecuTorch aborts so on a file it cannot parse)" if name == "SIGABRT" else ""
        return f"the runtime killed the process with {name}{hint}"
    return f"the measuring process exited with code {code} without a result"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def _failed(runner: str, artifact: Path, reason: str) -> RunResult:
    size = artifact_bytes(artifact) if artifact.exists() else None
    return RunResult(str(artifact), runner, "host", status="failed", reason=reason, file_bytes=size)


def _child_main(send_fd: int, parent: int) -> None:
    """The child: runner, artifact and request from stdin, messages to the parent's pipe."""
    _die_with(parent)
    send = Connection(send_fd, readable=False)

    def report(phase: str, done: int, total: int) -> None:
        send.send(("progress", (phase, done, total)))

    try:
        runner, artifact, request = pickle.loads(sys.stdin.buffer.read())
        send.send(("result", measure(runner, Path(artifact), request, report)))
    except RunnerUnavailable as exc:
        send.send(("skipped", one_line(exc)))
    except Exception as exc:  # any failure of this artifact is this row's reason
        send.send(("failed", one_line(exc)))


def _die_with(parent: int) -> None:
    """End this child when the bench that started it ends: a SIGTERM to ``edgeseg bench`` (a CI
    timeout, ``kill``) would otherwise leave the measurement running on an orphaned core. Linux
    does it in the kernel (``PR_SET_PDEATHSIG``), even while the runtime holds the GIL; elsewhere
    a thread watches for the parent to change."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before the request above was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


if __name__ == "__main__":
    _child_main(int(sys.argv[1]), int(sys.argv[2]))
