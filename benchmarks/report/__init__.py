"""Reports of ``edgeseg bench``: the rich table, JSON (schema in ``records``), CSV, the
accuracy-vs-latency PNG and a self-contained HTML page. All file writes are atomic."""

from benchmarks.report.html import render_html, write_html
from benchmarks.report.plot import plot_png, write_plot
from benchmarks.report.records import CSV_COLUMNS, SCHEMA, report_dict, write_csv, write_json
from benchmarks.report.table import bench_notes, bench_table

__all__ = [
    "CSV_COLUMNS",
    "SCHEMA",
    "bench_notes",
    "bench_table",
    "plot_png",
    "render_html",
    "report_dict",
    "write_csv",
    "write_html",
    "write_json",
    "write_plot",
]
