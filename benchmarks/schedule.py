"""Running the bench's rows: one worker per phone, one job at a time per phone.

A phone is measured by its own CPU, so two phones never disturb each other's numbers and can run
at once: each gets a worker thread that runs that phone's rows in order (one job at a time, so
a phone never runs two models against each other). The host is one more lane. By default its
rows run first and alone, because host timings share this machine's CPU with everything else —
adb pushes, pulls and the app runner's on-host mIoU scoring would add noise to them;
``host_alongside`` (``--host-alongside``) runs the host lane concurrently with the phones when a
shorter wall time matters more than the host numbers' noise. Results come back in the rows' own
order whatever the finishing order, each with ``extra["wall_s"]``, the seconds its run took.

A worker's unexpected exception (a bug, not a failed row) is raised in the caller once every
lane has stopped; Ctrl-C stops workers from starting new rows and interrupts the wait at once
(the threads are daemons: a phone mid-run keeps what was pushed, as after a pulled cable).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgeseg.benchmarks.base import RunResult
from edgeseg.benchmarks.options import RunRequest


@dataclass(frozen=True)
class Job:
    """One row: an artifact on a device (``where``: "host" or "adb")."""

    index: int
    artifact: Path
    where: str
    request: RunRequest

    @property
    def lane(self) -> str:
        return self.request.device


RunOne = Callable[[Job], RunResult]


def lanes(jobs: list[Job]) -> dict[str, list[Job]]:
    """Jobs by device, each lane in the rows' order, lanes in order of first appearance."""
    out: dict[str, list[Job]] = {}
    for job in jobs:
        out.setdefault(job.lane, []).append(job)
    return out


def run_jobs(jobs: list[Job], one: RunOne, host_alongside: bool = False) -> list[RunResult]:
    """Every job's result, in ``jobs`` order; phones in parallel, host first or alongside."""
    results: list[RunResult | None] = [None] * len(jobs)
    by_lane = lanes(jobs)
    host = by_lane.pop("host", [])
    stop = threading.Event()
    errors: list[BaseException] = []

    def work(lane: list[Job]) -> None:
        for job in lane:
            if stop.is_set():
                return
            start = time.perf_counter()
            try:
                result = one(job)
            except BaseException as exc:  # a bug in a runner: the caller re-raises it
                errors.append(exc)
                stop.set()
                return
            result.extra = {**(result.extra or {}), "wall_s": time.perf_counter() - start}
            results[job.index] = result

    if host and not host_alongside:
        work(host)
        host = []
    threads = [
        threading.Thread(target=work, args=(lane,), name=f"bench-{name}", daemon=True)
        for name, lane in ([("host", host)] if host else []) + list(by_lane.items())
    ]
    _run_all(threads, stop)
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def _run_all(threads: list[threading.Thread], stop: threading.Event) -> None:
    """Start every lane and wait; a ``join`` with a timeout keeps Ctrl-C deliverable."""
    if len(threads) == 1:  # one lane: no thread needed, and tracebacks stay plain
        threads[0].run()
        return
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
    except BaseException:
        stop.set()
        raise
