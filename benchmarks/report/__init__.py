"""Reports of ``edgeseg bench``: the rich table, JSON (schema in ``records``), CSV, the
accuracy-vs-latency PNG and a self-contained HTML page. All file writes are atomic."""

from edgeseg.benchmarks.report.html import render_html, write_html
from edgeseg.benchmarks.report.plot import plot_png, write_plot
from edgeseg.benchmarks.report.records import (
    CSV_COLUMNS,
    SCHEMA,
    report_dict,
    write_csv,
    write_json,
)
from edgeseg.benchmarks.report.table import bench_notes, bench_table, gate_line

__all__ = [
    "CSV_COLUMNS",
    "SCHEMA",
    "bench_notes",
    "bench_table",
    "gate_line",
    "plot_png",
    "render_html",
    "report_dict",
    "write_csv",
    "write_html",
    "write_json",
    "write_plot",
]
