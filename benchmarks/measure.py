"""One artifact, measured in the current process: load, first inference, warm-up, timed runs,
peak RSS, then (optionally) MACs and mIoU. A host runner's ``run`` has
:mod:`edgeseg.benchmarks.harness` call this in a child process per artifact; adb runners do the
same job on the phone. The runner is passed in (this module never imports the runners: they
import the harness, which imports this).

Order matters for honest numbers: the peak RSS (the process's high-water mark) is read right
after the timed runs, before the accuracy pass loads a dataset (and torch, which edgeseg's data
layer imports), so it is the runtime + model, not the evaluation set.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgeseg.benchmarks.base import BenchError, LatencyStats, Progress, RunResult
from edgeseg.benchmarks.feed import Feed, resolve_feed
from edgeseg.benchmarks.options import RunRequest
from edgeseg.contract import preprocess
from edgeseg.runtimes import Session

if TYPE_CHECKING:  # the runners import the harness, which imports this module
    from edgeseg.benchmarks.runners.host import HostRunner


def measure(
    runner: HostRunner,
    artifact: Path,
    request: RunRequest,
    report: Progress | None = None,
) -> RunResult:
    """Measure ``artifact`` with ``runner``; raises a BenchError (one line) when it cannot."""
    timing = request.timing
    runner.check_available()
    runner.check_file(artifact)
    result = RunResult(str(artifact), runner.name, "host", file_bytes=artifact_bytes(artifact))
    runner.import_runtime()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    session = runner.load(artifact, timing.threads)
    result.load_ms = (time.perf_counter() - started) * 1000.0
    feed = resolve_feed(artifact, session, request.feed, request.data_classes, named=False)
    result.quantization = feed.quantization
    x = example_input(feed, session)
    started = time.perf_counter()
    session(x)
    result.first_ms = (time.perf_counter() - started) * 1000.0
    if report:
        report("latency", 0, timing.runs)
    result.latency, cpu = time_session(session, x, timing.warmup, timing.runs)
    result.peak_rss_mb = peak_rss_mb()
    result.extra = {
        "threads": timing.threads,
        "warmup": timing.warmup,
        "feed": feed.source,
        "thread_cpu_ms": {"median": cpu.median_ms, "min": cpu.min_ms},
        "rss_before_load_mb": rss_before,
        "notes": feed.notes,
        "origin": feed.origin,
    }
    if request.macs:
        macs = runner.count_macs(artifact, session)
        result.extra["macs"] = macs
        result.extra["macs_method"] = runner.macs_method if macs else "not countable here"
    if request.accuracy.data:
        _accuracy(result, artifact, session, request, report)
    return result


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


def _accuracy(result: RunResult, artifact: Path, session: Session, request: RunRequest, report):
    from edgeseg.benchmarks.accuracy import class_lut, evaluate, metrics_from
    from edgeseg.data import build_dataset

    acc = request.accuracy
    feed = resolve_feed(artifact, session, request.feed, request.data_classes)
    result.extra["notes"] = feed.notes
    if feed.contract is None:
        result.extra["notes"].append(f"mIoU not measured: {feed.missing}")
        return
    dataset = build_dataset(acc.data, acc.split)
    if not dataset.info.labeled:
        raise BenchError(f"{acc.data} has no labels: mIoU needs a labelled set")
    classes = tuple(dataset.info.classes)
    lut = class_lut(feed, classes, acc.data, acc.class_map)
    count = len(dataset) if acc.images is None else min(acc.images, len(dataset))
    folder = Path(acc.overlay_dir) / f"{artifact.name}.{result.runner}" if acc.overlay_dir else None
    matrix, overlays = evaluate(
        session, feed.contract, lut, dataset, count, (acc.overlays, folder), report
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
