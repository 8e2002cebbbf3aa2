"""Pure parsers for the text the phone-side benchmark tools print (stdout and stderr together).

Formats, as the tools' sources print them:

- TFLite ``benchmark_model`` (classic): ``Inference timings in us: Init: …, First inference: …,
  Warmup (avg): …, Inference (avg): …``, one ``count= first= curr= min= max= avg= std=`` line per
  phase (newer builds add ``p5= median= p95=``; the last line is the timed phase), memory lines
  ``Memory footprint delta … init= overall=``, ``Peak memory footprint (MB): init= overall=`` and
  ``Overall peak memory footprint (MB) via periodic monitoring: …``. Lines may carry an ``INFO:``
  prefix. Very old builds print ``Average inference timings in us: Warmup: …, Init: …,
  Inference: …``.
- LiteRT ``benchmark_litert_model``: a block of ``Model initialization: X ms``, ``Warmup (first)``,
  ``Inference (avg|min|max|std)`` lines in milliseconds and ``Peak memory: X MB``.
- ``onnxruntime_perf_test``: ``Session creation time cost: X s``, ``First inference time cost:
  X ms``, ``Total inference requests: N``, ``Average inference time cost[ total]: X ms``,
  ``Min/Max/P50/P90/P95/P99 Latency: X s``, ``Peak working set size: N bytes``.
- ExecuTorch ``executor_runner`` (ET_LOG lines): ``Model loaded in X ms.``, ``Iteration i of N:
  X ms`` (newer builds) and ``Model executed successfully N time(s) in X ms.``

Every parser returns :class:`ToolTimings` in milliseconds, with ``None`` for what the tool did not
print (never a guessed value), or raises :class:`ParseError` when the summary is missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from edgeseg.benchmarks.base import BenchError

NUM = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


class ParseError(BenchError):
    """The tool's output lacks the lines a result needs (truncated, or another tool's)."""


@dataclass
class ToolTimings:
    """One tool invocation, in milliseconds. ``runs`` counts the timed (not warm-up) runs."""

    format: str
    mean_ms: float
    runs: int | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    std_ms: float | None = None
    median_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    init_ms: float | None = None
    first_ms: float | None = None
    warmup_mean_ms: float | None = None
    peak_mem_mb: float | None = None
    samples_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != []}


def _find(pattern: str, text: str, scale: float = 1.0) -> float | None:
    """The last match's first group as a float times ``scale`` (last: the timed phase wins)."""
    matches = re.findall(pattern, text)
    return float(matches[-1]) * scale if matches else None


def parse_tflite(text: str) -> ToolTimings:
    """``benchmark_model`` (classic) or ``benchmark_litert_model`` output, detected by content."""
    if re.search(r"Inference \(avg\):\s+" + NUM + r" ms", text):
        return _parse_litert(text)
    summary = re.search(
        rf"Inference timings in us: Init: ({NUM}), First inference: ({NUM}), "
        rf"Warmup \(avg\): ({NUM}), Inference \(avg\): ({NUM})",
        text,
    )
    if summary:
        init, first, warm, mean = (float(g) / 1000 for g in summary.groups())
    else:
        old = re.search(rf"timings in us: Warmup: ({NUM}), Init: ({NUM}), \w[\w ]*: ({NUM})", text)
        if not old:
            raise ParseError("no 'Inference timings in us' line in benchmark_model output")
        warm, init, mean = (float(g) / 1000 for g in old.groups())
        first = None
    t = ToolTimings(
        "tflite-benchmark_model", mean, init_ms=init, first_ms=first, warmup_mean_ms=warm
    )
    counts = re.findall(r"count=\d+ .*", text)
    if counts:
        values = dict(re.findall(rf"(\w+)=({NUM})", counts[-1]))
        get = lambda key: float(values[key]) / 1000 if key in values else None  # noqa: E731
        t.runs = int(values["count"])
        t.min_ms, t.max_ms, t.std_ms = get("min"), get("max"), get("std")
        t.median_ms, t.p95_ms = get("median"), get("p95")
    t.peak_mem_mb = _find(
        rf"peak memory footprint \(MB\) via periodic monitoring: ({NUM})", text
    ) or _find(rf"Peak memory footprint \(MB\): init={NUM} overall=({NUM})", text)
    return t


def _parse_litert(text: str) -> ToolTimings:
    ms = lambda label: _find(rf"{label}:\s+({NUM})", text)  # noqa: E731
    runs = re.search(rf"Inference \(avg\):\s+{NUM} ms \((\d+) runs\)", text)
    return ToolTimings(
        "litert-benchmark",
        mean_ms=ms(r"Inference \(avg\)"),
        runs=int(runs.group(1)) if runs else None,
        min_ms=ms(r"Inference \(min\)"),
        max_ms=ms(r"Inference \(max\)"),
        std_ms=ms(r"Inference \(std\)"),
        init_ms=ms("Model initialization"),
        first_ms=ms(r"Warmup \(first\)"),
        warmup_mean_ms=ms(r"Warmup \(avg\)"),
        peak_mem_mb=ms("Peak memory"),
    )


def parse_onnxruntime_perf(text: str) -> ToolTimings:
    mean = _find(rf"Average inference time cost(?: total)?: ({NUM}) ms", text)
    if mean is None:
        raise ParseError("no 'Average inference time cost' line in onnxruntime_perf_test output")
    latency = lambda name: _find(rf"{name} Latency: ({NUM}) s", text, 1000.0)  # noqa: E731
    requests = _find(r"Total inference requests: (\d+)", text)
    peak = _find(r"Peak working set size: (\d+) bytes", text)
    return ToolTimings(
        "onnxruntime_perf_test",
        mean_ms=mean,
        runs=int(requests) if requests is not None else None,
        min_ms=latency("Min"),
        max_ms=latency("Max"),
        median_ms=latency("P50"),
        p90_ms=latency("P90"),
        p95_ms=latency("P95"),
        p99_ms=latency("P99"),
        init_ms=_find(rf"Session creation time cost: ({NUM}) s", text, 1000.0),
        first_ms=_find(rf"First inference time cost: ({NUM}) ms", text),
        peak_mem_mb=peak / 2**20 if peak is not None else None,
    )


def parse_executor_runner(text: str) -> ToolTimings:
    """All executions, warm-up included: the runner splits them (the tool has no warm-up flag)."""
    done = re.search(rf"Model executed successfully (\d+) time\(s\) in ({NUM}) ms", text)
    if not done:
        raise ParseError("no 'Model executed successfully' line in executor_runner output")
    runs, total = int(done.group(1)), float(done.group(2))
    samples = [float(v) for v in re.findall(rf"Iteration \d+ of \d+: ({NUM}) ms", text)]
    return ToolTimings(
        "executorch-executor_runner",
        mean_ms=total / max(runs, 1),
        runs=runs,
        init_ms=_find(rf"Model loaded in ({NUM}) ms", text),
        first_ms=samples[0] if samples else None,
        samples_ms=samples if len(samples) == runs else [],
    )
