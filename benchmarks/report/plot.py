"""Accuracy vs latency: one point per ok row (median ms, mIoU); size vs latency without mIoU."""

from __future__ import annotations

from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.bench import BenchReport
from edgeseg.benchmarks.figures import figure_png, pyplot
from edgeseg.quantization import QuantLabel, is_int8


def plot_png(report: BenchReport) -> bytes:
    """The figure as PNG bytes (matplotlib, Agg: no display needed).

    Points are numbered and named in a legend beside the axes: artifacts of one model often sit
    on the same mIoU, where labels written next to the points overlap into an unreadable line.
    Marker shape follows the quantization (circle fp32, square int8, triangle other). With one
    runtime thread on the host, x is the thread CPU time per inference (what the tables rank by:
    robust to a neighbour's load); otherwise the wall-clock median.
    """
    plt = pyplot()
    rows = [r for r in report.results if r.status == "ok" and r.latency is not None]
    accuracy = any(r.miou is not None for r in rows)
    if accuracy:
        rows = [r for r in rows if r.miou is not None]
    cpu_clock = bool(rows) and all(r.one_thread_cpu_ms for r in rows)
    fig, ax = plt.subplots(figsize=(10, 5), dpi=110)
    for i, r in enumerate(rows, start=1):
        y = 100 * r.miou if accuracy else (r.file_bytes or 0) / 1e6
        x = r.one_thread_cpu_ms if cpu_clock else (r.latency.median_ms or r.latency.mean_ms)
        where = "" if r.device == "host" else f", {r.device}"
        label = f"{i}. {Path(r.artifact).name} ({r.runner}{where})"
        ax.scatter(
            [x], [y], s=45, color=f"C{(i - 1) % 10}", marker=_marker(r), zorder=3, label=label
        )
        ax.annotate(str(i), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    clock = "thread CPU ms" if cpu_clock else "median ms"
    ax.set_xlabel(f"latency per image ({clock}, log scale)")
    ax.set_ylabel("mIoU (%)" if accuracy else "file size (MB)")
    data = report.options.accuracy.data
    ax.set_title(f"accuracy vs latency on {data}" if accuracy else "size vs latency (no --data)")
    ax.grid(True, which="both", alpha=0.3)
    if rows:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    return figure_png(fig)


def _marker(r) -> str:
    quant = r.quantization or QuantLabel.FP32
    return "s" if is_int8(quant) else "o" if quant == QuantLabel.FP32 else "^"


def write_plot(report: BenchReport, path: Path) -> Path:
    png = plot_png(report)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return path
