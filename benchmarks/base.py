"""The Runner protocol: one runner per runtime (host or phone), one result shape, one registry.

A runner takes an exported artifact (plus its ``<artifact>.json`` sidecar, see
``edgeseg.export.artifact_metadata``) and a :class:`~edgeseg.benchmarks.options.RunRequest`, and
returns a :class:`RunResult`; :meth:`Runner.run` is all ``edgeseg bench`` calls, for every
artifact on every device. Host runners (``benchmarks/runners/``) measure in a child process that
loads the artifact in its Python runtime and times calls; adb runners (``benchmarks/adb/``) push
it to a phone, run the phone-side tool and parse its output. Reporting never asks which runtime
produced a result.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from edgeseg.errors import EdgesegError
from edgeseg.utils import class_registrar, pick_by_content, unknown_name_message

if TYPE_CHECKING:  # options.py builds on this module (its errors)
    from edgeseg.benchmarks.options import RunRequest

Progress = Callable[[str, int, int], None]
"""(phase, done, total): how far one artifact's measurement is, for the bench's progress bar."""


class BenchError(EdgesegError):
    """A benchmark could not run (bad artifact, missing runner binary, unreachable device)."""


class RunnerUnavailable(BenchError):
    """The runtime cannot run on this machine at all (Core ML off macOS): a skipped row."""


@dataclass
class LatencyStats:
    """Milliseconds over the timed runs (warm-up excluded). Phone-side tools print summaries, not
    samples: a statistic the tool did not report is ``None``, never estimated."""

    runs: int
    mean_ms: float
    median_ms: float | None
    p90_ms: float | None
    min_ms: float | None
    max_ms: float | None
    std_ms: float | None

    @classmethod
    def from_samples(cls, samples_ms: list[float]) -> LatencyStats:
        if not samples_ms:
            raise ValueError("no timed runs")
        ordered = sorted(samples_ms)
        p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
        std = statistics.pstdev(ordered) if len(ordered) > 1 else 0.0
        return cls(
            len(ordered),
            statistics.fmean(ordered),
            statistics.median(ordered),
            p90,
            ordered[0],
            ordered[-1],
            std,
        )


@dataclass
class RunResult:
    """One artifact on one device. ``status``: ok | failed | skipped (``reason`` says why)."""

    artifact: str
    runner: str
    device: str
    status: str = "ok"
    reason: str = ""
    file_bytes: int | None = None
    quantization: str | None = None  # the sidecar's honest label
    load_ms: float | None = None
    first_ms: float | None = None
    latency: LatencyStats | None = None
    peak_rss_mb: float | None = None
    miou: float | None = None
    per_class_iou: dict[str, float | None] | None = None
    images: int | None = None  # how many images the mIoU is over
    extra: dict[str, Any] = field(default_factory=dict)  # runner-specific (device info, spread…)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def one_thread_cpu_ms(self) -> float | None:
        """Median CPU ms of the calling thread per inference when the row ran one runtime thread
        on the host (all the work runs there, so a neighbour's load does not inflate it); else
        None. Rankings, the plot and the roofline use it before wall time."""
        extra = self.extra or {}
        if self.device != "host" or extra.get("threads") != 1:
            return None
        return (extra.get("thread_cpu_ms") or {}).get("median")


class Runner:
    """Base class of every runner. Subclasses set ``name``, ``formats`` (file suffixes) and
    ``where`` ("host" or "adb"), and implement :meth:`run`."""

    name: ClassVar[str] = ""
    formats: ClassVar[tuple[str, ...]] = ()
    where: ClassVar[str] = "host"
    by_suffix: ClassVar[bool] = True  # False: only run when named (``--runner app``)

    def check_available(self) -> None:
        """Raise :class:`BenchError` naming what is missing and how to get it."""

    def check_file(self, artifact: Path) -> None:
        """Raise :class:`BenchError` unless ``artifact`` looks like this runner's format (a cheap
        look at its bytes). Two runners may share a suffix (``.pt``: checkpoint or TorchScript);
        :func:`runner_for` then asks each, so content decides, never a guess."""

    def run(
        self, artifact: Path, request: RunRequest, progress: Progress | None = None
    ) -> RunResult:
        """Measure ``artifact`` on ``request.device``. A failure of this artifact is a failed
        result or a :class:`BenchError` (``edgeseg bench`` makes it a failed row either way);
        ``progress``, when given, hears how far the measurement is."""
        raise NotImplementedError


_RUNNERS: dict[str, type[Runner]] = {}


register_runner = class_registrar(_RUNNERS, "Runner")
"""Class decorator: register a runner under its ``name`` (a second use is an error)."""


def runner_names(where: str | None = None) -> list[str]:
    return [n for n, c in _RUNNERS.items() if where is None or c.where == where]


def get_runner(name: str) -> Runner:
    if name not in _RUNNERS:
        raise BenchError(unknown_name_message("runner", name, _RUNNERS))
    return _RUNNERS[name]()


def runner_for(artifact: Path, where: str = "host") -> Runner:
    """The registered runner of ``where`` that takes ``artifact``: by suffix, then by content
    (:meth:`Runner.check_file`) when several runners share the suffix."""
    suffix = artifact.suffix.lower()
    found = [
        c()
        for c in _RUNNERS.values()
        if c.where == where and suffix in c.formats and getattr(c, "by_suffix", True)
    ]
    known = (s for c in _RUNNERS.values() if c.where == where for s in c.formats)
    return pick_by_content(artifact, found, known, (f"{where} runner", "for"), BenchError)
