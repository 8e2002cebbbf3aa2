"""``edgeseg bench``: every artifact on every device → one
:class:`~edgeseg.benchmarks.base.RunResult`.

Each row is one call of :meth:`Runner.run <edgeseg.benchmarks.base.Runner.run>` with the device's
:class:`~edgeseg.benchmarks.options.RunRequest`; the runner is chosen by suffix or by
``--runner`` among the host runners (which measure in a child process each) or the adb runners
(``edgeseg.benchmarks.adb``). Bad *options* fail when :class:`BenchOptions` is made; bad *command*
input (a folder with no artifacts, a dataset spec that does not load, an unknown runner, a phone
that is not there) raises before anything runs; a bad *artifact* (unknown type, corrupt file, a
model whose classes do not fit the dataset) becomes a failed row and the others still run.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import edgeseg.benchmarks.runners  # noqa: F401  (register the host runners)
from edgeseg.benchmarks.base import (
    BenchError,
    Progress,
    Runner,
    RunResult,
    get_runner,
    runner_for,
    runner_names,
)
from edgeseg.benchmarks.gates import gate_failed, judge
from edgeseg.benchmarks.measure import artifact_bytes
from edgeseg.benchmarks.options import BenchOptions, RunRequest
from edgeseg.benchmarks.roofline import Peak, attach, measure_peak, share_macs
from edgeseg.benchmarks.schedule import Job, run_jobs
from edgeseg.benchmarks.stopping import stoppable
from edgeseg.errors import EdgesegError, one_line
from edgeseg.progress import progress_bar
from edgeseg.sidecar import verify_artifact


@dataclass
class BenchReport:
    results: list[RunResult]
    options: BenchOptions
    peak: Peak | None = None
    created: str = ""
    host: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[RunResult]:
        """Rows that failed (a skipped row, e.g. Core ML off macOS, is not a failure)."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def gate_failed(self) -> list[RunResult]:
        """Rows that ran but failed a gate (``--max-miou-drop``, ``--min-miou-ratio``, …)."""
        return gate_failed(self.results)


def run_bench(paths: list[str | Path], options: BenchOptions) -> BenchReport:
    """Benchmark ``paths`` (artifacts or folders of them) as ``options`` say."""
    artifacts = expand(paths)
    accuracy = options.accuracy
    classes = dataset_classes(accuracy.data, accuracy.split) if accuracy.data else ()
    targets = _targets(options.devices)
    if options.runner:
        for where in {w for _, w in targets}:
            _runner_name(options.runner, where)
    rows = [(artifact, device, where) for device, where in targets for artifact in artifacts]
    jobs = [Job(i, a, w, options.request(d, classes)) for i, (a, d, w) in enumerate(rows)]
    with progress_bar(options.progress) as bar:
        task = bar.add_task("bench", total=len(jobs), info="")

        def one(job: Job) -> RunResult:
            name, device = job.artifact.name, job.request.device
            bar.update(task, info=f"{name} on {device}")

            def show(phase: str, done: int, total: int) -> None:
                bar.update(task, info=f"{name} on {device} {phase} {done}/{total}")

            result = _one(job.artifact, job.where, job.request, options.runner, show)
            bar.advance(task)
            return result

        with stoppable():  # a stopped bench kills its adb clients, not leaves them running
            results = run_jobs(jobs, one, options.schedule.host_alongside)
    judge(results, options)  # Δ mIoU against each artifact's reference; the gates
    report = BenchReport(results, options, created=_now(), host=host_info())
    if options.roofline:
        share_macs(results)
        report.peak = measure_peak(options.timing.threads)
        attach(results, report.peak)
    return report


def expand(paths: list[str | Path]) -> list[Path]:
    """Files as given (an unknown type becomes a failed row); folders → their artifacts."""
    if not paths:
        raise BenchError("no artifacts given: pass model files or a folder of them")
    suffixes = {s for n in runner_names() for s in get_runner(n).formats}
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir() or path.suffix.lower() in suffixes:  # .mlpackage is a folder
            out.append(path)
            continue
        found = sorted(
            p for p in path.iterdir() if not p.name.startswith(".") and p.suffix.lower() in suffixes
        )
        if not found:
            raise BenchError(f"{path} holds no model files ({', '.join(sorted(suffixes))})")
        out.extend(found)
    return out


def dataset_classes(data: str, split: str) -> tuple[str, ...]:
    """Load the dataset's index once up front: a bad ``--data`` fails before any timing."""
    from edgeseg.data import build_dataset

    dataset = build_dataset(data, split)
    if not dataset.info.labeled:
        raise BenchError(f"{data} has no labels: mIoU needs a labelled set (or drop --data)")
    return tuple(dataset.info.classes)


def _targets(devices: tuple[str, ...]) -> list[tuple[str, str]]:
    """(device, where) pairs: "host", or the serials of the phones each selector names."""
    out: list[tuple[str, str]] = []
    for selector in devices:
        if selector == "host":
            out.append(("host", "host"))
            continue
        from edgeseg.benchmarks.adb import resolve_devices

        out.extend((d.serial, "adb") for d in resolve_devices(selector))
    return list(dict.fromkeys(out))


def _one(
    artifact: Path, where: str, request: RunRequest, name: str | None, show: Progress
) -> RunResult:
    """One row: the runner that takes ``artifact`` on ``where``, asked through the protocol."""
    try:
        runner = _runner(artifact, where, name, request)
    except BenchError as exc:
        return _failed(artifact, name or "?", request.device, one_line(exc))
    try:
        verify_artifact(artifact)  # the file its sidecar describes, or a failed row saying so
        return runner.run(artifact, request, show)
    except EdgesegError as exc:  # one artifact failing never stops the others
        return _failed(artifact, runner.name, request.device, one_line(exc))


def _runner(artifact: Path, where: str, name: str | None, request: RunRequest) -> Runner:
    """``--runner tflite`` means ``tflite`` on the host and ``adb-tflite`` on a phone; without
    ``--runner`` a phone gets its cached tool, else the demo app (``adb.select``)."""
    if name is None and where == "adb":
        from edgeseg.benchmarks.adb.select import pick_for

        return pick_for(artifact, request)
    if name is None:
        return runner_for(artifact, where)
    runner = get_runner(_runner_name(name, where))
    if artifact.suffix.lower() not in runner.formats:
        raise BenchError(
            f"{artifact.name}: the {runner.name} runner takes {', '.join(runner.formats)} files"
        )
    return runner


def _runner_name(name: str, where: str) -> str:
    names = [n for n in (f"adb-{name}", name) if n in runner_names(where)]
    if not names:
        valid = sorted({n.removeprefix("adb-") for n in runner_names(where)})
        raise BenchError(f"no {where} runner '{name}' (valid: {', '.join(valid)})")
    return names[0]


def _failed(artifact: Path, runner: str, device: str, reason: str) -> RunResult:
    size = artifact_bytes(artifact) if artifact.exists() else None
    return RunResult(str(artifact), runner, device, status="failed", reason=reason, file_bytes=size)


def host_info() -> dict:
    """What the numbers were measured on."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "cpu_flags": cpu_flags(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def cpu_flags() -> str:
    """The instruction sets that decide int8 and fp32 speed (and the float path): the same
    model is ~2x faster in int8 with AVX2 alone and ~5x with AVX-512 VNNI / AMX."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return ", ".join(f for f in wanted if f in flags) or "none of avx2/avx512/vnni"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
