"""Host runners: one per runtime of :mod:`edgeseg.runtimes`, all the same class.

A host runner is a runtime as the bench sees it: it checks a file's bytes
(:meth:`HostRunner.check_file`) and opens it with a thread count (:meth:`HostRunner.load`),
both through :mod:`edgeseg.runtimes`, the one code path the export parity check and the artifact
teachers use too, and gets a :class:`~edgeseg.runtimes.Session` back. The runtime's errors become
bench errors: a failed row, or a skipped one for a runtime this platform does not have.
:meth:`HostRunner.run` (the Runner protocol, what ``edgeseg bench`` calls) measures in a child
process (:mod:`edgeseg.benchmarks.harness`). What is a measurement rather than a runtime (MACs:
:mod:`edgeseg.benchmarks.runners.macs`; timing, accuracy, RSS: :mod:`edgeseg.benchmarks.measure`)
stays in the bench.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from edgeseg import runtimes
from edgeseg.benchmarks.base import BenchError, Progress, Runner, RunnerUnavailable, RunResult
from edgeseg.benchmarks.harness import run_isolated
from edgeseg.benchmarks.options import RunRequest
from edgeseg.benchmarks.runners.macs import COUNTERS
from edgeseg.runtimes import Session


@contextlib.contextmanager
def bench_errors() -> Iterator[None]:
    """A runtime's refusal as the bench's: unavailable → a skipped row, anything else → failed."""
    try:
        yield
    except runtimes.RuntimeUnavailable as exc:
        raise RunnerUnavailable(str(exc)) from exc
    except runtimes.ArtifactLoadError as exc:
        raise BenchError(str(exc)) from exc


class HostRunner(Runner):
    """Base of the runners that run an artifact in this machine's Python runtime: ``runtime``
    names the :mod:`edgeseg.runtimes` runtime that opens its files (empty: a subclass opens
    them itself, as a test runner does)."""

    where: ClassVar[str] = "host"
    runtime: ClassVar[str] = ""

    @property
    def macs_method(self) -> str:
        """How :meth:`count_macs` counts, said in the report (empty: it cannot)."""
        counter = COUNTERS.get(self.runtime)
        return counter.method if counter else ""

    def check_available(self) -> None:
        if self.runtime:
            with bench_errors():
                runtimes.get_runtime(self.runtime).check_available()

    def import_runtime(self) -> None:
        """Import the runtime up front: load time is the model's, not Python's import time."""
        if self.runtime:
            runtimes.get_runtime(self.runtime).import_library()

    def check_file(self, artifact: Path) -> None:
        if self.runtime:
            with bench_errors():
                runtimes.get_runtime(self.runtime).check_file(artifact)

    def load(self, artifact: Path, threads: int) -> Session:
        if not self.runtime:
            raise NotImplementedError
        with bench_errors():
            return runtimes.load(artifact, threads, runtime=self.runtime)

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        """Multiply-accumulates of one inference, or None when this format cannot tell."""
        counter = COUNTERS.get(self.runtime)
        return counter.count(artifact, session) if counter else None

    def run(
        self, artifact: Path, request: RunRequest, progress: Progress | None = None
    ) -> RunResult:
        """Measure ``artifact`` in a child process of its own (:mod:`edgeseg.benchmarks.harness`):
        a runtime that aborts, hangs past ``request.timing.timeout_s`` or keeps memory costs one
        failed row, and the peak RSS is this artifact's alone."""
        if request.device != "host":
            raise BenchError(
                f"the {self.name} runner runs on this machine: device 'host', not "
                f"'{request.device}'"
            )
        return run_isolated(self, artifact, request, progress)

    def __reduce__(self):
        """The harness sends the runner to its child by pickle; a runtime's runner class is made
        at import time, so it travels as its runtime's name and is made again there."""
        if not self.runtime or type(self) is not host_runner_class(self.runtime):
            return super().__reduce__()
        return (_runner_of, (self.runtime,))


@functools.cache
def host_runner_class(runtime: str) -> type[HostRunner]:
    """A :class:`HostRunner` for ``runtime``, with its name and file suffixes."""
    found = runtimes.get_runtime(runtime)
    attrs = {"name": found.name, "formats": found.formats, "runtime": found.name}
    return type(f"{type(found).__name__}Runner", (HostRunner,), attrs)


def _runner_of(runtime: str) -> HostRunner:
    return host_runner_class(runtime)()
