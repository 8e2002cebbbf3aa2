"""Accuracy vs latency: one point per ok row (median ms, mIoU); size vs latency without mIoU."""

from __future__ import annotations

import io
from pathlib import Path

from benchmarks.bench import BenchReport
from edgeseg.utils import atomic_path


def plot_png(report: BenchReport) -> bytes:
    """The figure as PNG bytes (matplotlib, Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report.results if r.status == "ok" and r.latency is not None]
    accuracy = any(r.miou is not None for r in rows)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for i, r in enumerate(rows):
        y = 100 * r.miou if accuracy else (r.file_bytes or 0) / 1e6
        if accuracy and r.miou is None:
            continue
        x = r.latency.median_ms or r.latency.mean_ms
        ax.scatter([x], [y], s=40, color=f"C{i % 10}", zorder=3)
        where = "" if r.device == "host" else f", {r.device}"
        label = f"{Path(r.artifact).name} ({r.runner}{where})"
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("median latency per image (ms, log scale)")
    ax.set_ylabel("mIoU (%)" if accuracy else "file size (MB)")
    data = report.options.job.data
    ax.set_title(f"accuracy vs latency on {data}" if accuracy else "size vs latency (no --data)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def write_plot(report: BenchReport, path: Path) -> Path:
    png = plot_png(report)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return path
