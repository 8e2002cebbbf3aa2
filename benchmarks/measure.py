"""One artifact, measured in the current process: load, first inference, warm-up, timed runs,
peak RSS, then (optionally) MACs and mIoU. :mod:`edgeseg.benchmarks.harness` runs this in a child
process per artifact; adb runners do the same job on the phone.

Order matters for honest numbers: the peak RSS (the process's high-water mark) is read right
after the timed runs, before the accuracy pass loads a dataset (and torch, which edgeseg's data
layer imports), so it is the runtime + model, not the evaluation set.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgeseg.benchmarks.base import BenchError, BenchSpec, LatencyStats, RunResult
from edgeseg.benchmarks.feed import Feed, FeedOptions, resolve_feed
from edgeseg.contract import preprocess
from edgeseg.runtimes import Session

if TYPE_CHECKING:
    from edgeseg.benchmarks.runners.host import HostRunner

Report = Callable[[str, int, int], None]


@dataclass
class MeasureJob:
    """What ``edgeseg bench`` asks beyond latency (the same for every artifact of one call)."""

    data: str | None = None
    split: str = "val"
    images: int | None = None  # the first N images (None: all)
    class_map: str | None = None
    data_classes: tuple[str, ...] = ()  # the dataset's classes, checked before any timing
    feed: FeedOptions = field(default_factory=FeedOptions)
    overlays: int = 0
    overlay_dir: str | None = None
    macs: bool = False
    runner_modules: tuple[str, ...] = ()  # imported in the child: runners registered elsewhere


def measure(
    runner: HostRunner,
    artifact: Path,
    spec: BenchSpec,
    job: MeasureJob,
    report: Report | None = None,
) -> RunResult:
    """Measure ``artifact`` with ``runner``; raises a BenchError (one line) when it cannot."""
    if min(spec.runs, spec.threads) < 1 or spec.warmup < 0:
        raise BenchError("runs and threads must be ≥ 1 and warm-up ≥ 0")
    runner.check_available()
    runner.check_file(artifact)
    result = RunResult(str(artifact), runner.name, "host", file_bytes=artifact_bytes(artifact))
    runner.import_runtime()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    session = runner.load(artifact, spec.threads)
    result.load_ms = (time.perf_counter() - started) * 1000.0
    feed = resolve_feed(artifact, session, job.feed, job.data_classes, named=False)
    result.quantization = feed.quantization
    x = example_input(feed, session)
    started = time.perf_counter()
    session(x)
    result.first_ms = (time.perf_counter() - started) * 1000.0
    if report:
        report("latency", 0, spec.runs)
    result.latency, cpu = time_session(session, x, spec.warmup, spec.runs)
    result.peak_rss_mb = peak_rss_mb()
    result.extra = {
        "threads": spec.threads,
        "warmup": spec.warmup,
        "feed": feed.source,
        "thread_cpu_ms": {"median": cpu.median_ms, "min": cpu.min_ms},
        "rss_before_load_mb": rss_before,
        "notes": feed.notes,
        "origin": feed.origin,
    }
    if job.macs:
        macs = runner.count_macs(artifact, session)
        result.extra["macs"] = macs
        result.extra["macs_method"] = runner.macs_method if macs else "not countable here"
    if job.data:
        _accuracy(result, artifact, session, job, report)
    return result


def _accuracy(result: RunResult, artifact: Path, session: Session, job: MeasureJob, report):
    from edgeseg.benchmarks.accuracy import class_lut, evaluate, metrics_from
    from edgeseg.data import build_dataset

    feed = resolve_feed(artifact, session, job.feed, job.data_classes)
    result.extra["notes"] = feed.notes
    if feed.contract is None:
        result.extra["notes"].append(f"mIoU not measured: {feed.missing}")
        return
    dataset = build_dataset(job.data, job.split)
    if not dataset.info.labeled:
        raise BenchError(f"{job.data} has no labels: mIoU needs a labelled set")
    classes = tuple(dataset.info.classes)
    lut = class_lut(feed, classes, job.data, job.class_map)
    count = len(dataset) if job.images is None else min(job.images, len(dataset))
    folder = Path(job.overlay_dir) / f"{artifact.name}.{result.runner}" if job.overlay_dir else None
    matrix, overlays = evaluate(
        session, feed.contract, lut, dataset, count, (job.overlays, folder), report
    )
    metrics = metrics_from(matrix, classes)
    result.miou = None if metrics.miou != metrics.miou else metrics.miou
    ious = metrics.per_class_iou
    result.per_class_iou = {c: (None if v != v else v) for c, v in zip(classes, ious)}
    result.images = count
    result.extra.update(
        pixel_accuracy=metrics.pixel_accuracy,
        overlays=overlays,
        miou_mapped=_mapped_miou(metrics.per_class_iou, lut, len(classes)),
        label_resize="nearest, to the artifact's input size",
    )


def _mapped_miou(ious: list[float], lut: np.ndarray, n: int) -> float | None:
    """mIoU over the dataset classes some model class maps to (None when that is all of them):
    a VOC model on CamVid can never say "Road", and this says how it does where it can."""
    mapped = sorted({int(c) for c in lut if c < n})
    valid = [ious[c] for c in mapped if ious[c] == ious[c]]
    return sum(valid) / len(valid) if valid and len(mapped) < n else None


def time_session(
    session: Session, x: np.ndarray, warmup: int, runs: int
) -> tuple[LatencyStats, LatencyStats]:
    """``warmup`` untimed calls, then ``runs`` timed ones: wall time and this thread's CPU time.

    Both in milliseconds. With one runtime thread the work runs on the calling thread, so its CPU
    time is the inference's cost even when other processes share the cores (wall time then
    includes waiting for a core); with more threads it only counts the calling thread's share.
    """
    for _ in range(warmup):
        session(x)
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        session(x)
        cpu.append((time.thread_time() - started_cpu) * 1000.0)
        wall.append((time.perf_counter() - started) * 1000.0)
    return LatencyStats.from_samples(wall), LatencyStats.from_samples(cpu)


def example_input(feed: Feed, session: Session) -> np.ndarray:
    """A seeded random picture through the contract; zeros when the normalisation is unknown."""
    if feed.contract is None:
        return np.zeros(session.input.shape, dtype=session.input.dtype)
    h, w = feed.contract.size
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return preprocess(image, feed.contract)


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark. Linux: ``VmHWM`` (reset by exec; the
    rusage figure keeps the forking parent's peak), elsewhere ``ru_maxrss`` (macOS: bytes)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 1024), 1)


def artifact_bytes(artifact: Path) -> int:
    if artifact.is_dir():  # .mlpackage
        return sum(f.stat().st_size for f in artifact.rglob("*") if f.is_file())
    return artifact.stat().st_size
