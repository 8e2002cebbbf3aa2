"""Run one host measurement in a child process, so a runtime that aborts costs one row.

ExecuTorch's loader aborts the whole process on some bad files (SIGABRT), native runtimes can
segfault, and every runtime keeps memory it never returns: a fresh ``spawn`` child per artifact
isolates all three and makes the peak RSS that artifact's own. The child sends progress and one
result back over a pipe; a child that dies or overruns ``timeout_s`` becomes a ``failed``
:class:`~benchmarks.base.RunResult` naming the signal or exit code and the runtime's last words.
The child's stdout and stderr go to a log file (runtimes print banners and cpuinfo chatter), so
neither the table on stdout nor the progress bar on stderr is broken up.

``spawn`` re-imports the calling script in the child: a script (not the CLI) that calls
:func:`run_isolated` needs the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.base import BenchSpec, RunnerUnavailable, RunResult
from benchmarks.measure import MeasureJob, artifact_bytes

Progress = Callable[[str, int, int], None]


def run_isolated(
    runner: str, artifact: Path, spec: BenchSpec, job: MeasureJob,
    progress: Progress | None = None, timeout_s: float | None = None,
) -> RunResult:  # fmt: skip
    """Measure ``artifact`` with host runner ``runner`` in a spawned child; never raises for
    a bad artifact (the row says what went wrong)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    fd, log = tempfile.mkstemp(prefix="edgeseg-bench-", suffix=".log")
    os.close(fd)
    args = (send, runner, str(artifact), spec, job, log)
    child = ctx.Process(target=_child, args=args, daemon=True)
    try:
        child.start()
        send.close()
        message = _wait(child, receive, progress, timeout_s)
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
        last = _last_line(Path(log))
    finally:
        Path(log).unlink(missing_ok=True)
    if message is None:
        said = f" (last output: {last})" if last else ""
        return _failed(runner, artifact, _death(child.exitcode, timeout_s) + said)
    kind, payload = message
    if kind == "result":
        return payload
    row = _failed(runner, artifact, payload)
    row.status = "skipped" if kind == "skipped" else "failed"
    return row


def _wait(child, receive, progress: Progress | None, timeout_s: float | None):
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
        elif not child.is_alive():
            return receive.recv() if receive.poll(0.5) else None
        if deadline and time.monotonic() > deadline:
            child.kill()
            return None


def _death(code: int | None, timeout_s: float | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (ExecuTorch aborts like this on a file it cannot parse)" if name == "SIGABRT" else ""
        return f"the runtime killed the process with {name}{hint}"
    if code == -signal.SIGKILL or code is None:
        return f"no result within {timeout_s:.0f} s: stopped" if timeout_s else "the process hung"
    return f"the measuring process exited with code {code} without a result"


def _last_line(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def _failed(runner: str, artifact: Path, reason: str) -> RunResult:
    size = artifact_bytes(artifact) if artifact.exists() else None
    return RunResult(str(artifact), runner, "host", status="failed", reason=reason,
                     file_bytes=size)  # fmt: skip


def _child(
    send, runner_name: str, artifact: str, spec: BenchSpec, job: MeasureJob, log: str
) -> None:
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)  # runtime chatter (also from C++) goes to the log, not the terminal
    os.dup2(out, 2)
    import benchmarks.runners  # noqa: F401  (register)
    from benchmarks.base import get_runner
    from benchmarks.measure import measure

    def report(phase: str, done: int, total: int) -> None:
        send.send(("progress", (phase, done, total)))

    try:
        runner = get_runner(runner_name)
        send.send(("result", measure(runner, Path(artifact), spec, job, report)))
    except RunnerUnavailable as exc:
        send.send(("skipped", one_line(exc)))
    except Exception as exc:  # any failure of this artifact is this row's reason
        send.send(("failed", one_line(exc)))


def one_line(exc: BaseException) -> str:
    """The error's first line; the exception type too when it is not one of edgeseg's."""
    from edgeseg.errors import EdgesegError

    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(exc, EdgesegError) else f"{type(exc).__name__}: {text}"[:300]
