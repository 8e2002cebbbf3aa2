"""One self-contained HTML report: settings, the table, the plot and a few overlays, with the
images inlined (base64), so the file can be mailed or attached to a CI run as it is."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.bench import BenchReport
from edgeseg.benchmarks.report.plot import plot_png
from edgeseg.benchmarks.report.records import CSV_COLUMNS, flat_row, report_dict

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f0f0f0}tr.failed{background:#fde8e8}tr.skipped{background:#f4f4f4}
td.num{text-align:right}figure{display:inline-block;margin:0 1em 1em 0}
figcaption{font-size:12px}img.ov{max-width:320px}"""


def render_html(report: BenchReport) -> str:
    data = report_dict(report)
    host = data["host"]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>edgeseg bench</title>"
        f"<style>{_STYLE}</style><h1>edgeseg bench</h1>",
        f"<p>{_e(data['created'])} on {_e(host.get('processor'))} ({host.get('cpus')} CPUs); "
        f"settings: {_e(data['settings'])}</p>",
    ]
    if data["roofline"]:
        parts.append(f"<p>roofline peak: {_e(data['roofline'])}</p>")
    parts.append(_table(data["records"]))
    parts.append(f"<h2>Accuracy vs latency</h2><img alt='plot' src='{_png(plot_png(report))}'>")
    overlays = _overlays(data["records"])
    if overlays:
        parts.append("<h2>Overlays</h2>" + overlays)
    return "\n".join(parts) + "\n"


def write_html(report: BenchReport, path: Path) -> Path:
    text = render_html(report)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _table(records: list[dict]) -> str:
    head = "".join(f"<th>{c}</th>" for c in CSV_COLUMNS)
    rows = []
    for record in records:
        row = flat_row(record)
        cells = "".join(
            f"<td class='num'>{v:.4g}</td>" if isinstance(v, float) else f"<td>{_e(v)}</td>"
            for v in row.values()
        )
        rows.append(f"<tr class='{_e(row['status'])}'>{cells}</tr>")
    return f"<h2>Results</h2><table><tr>{head}</tr>{''.join(rows)}</table>"


def _overlays(records: list[dict], per_row: int = 3) -> str:
    figures = []
    for record in records:
        for path in (record.get("extra") or {}).get("overlays", [])[:per_row]:
            if Path(path).is_file():
                src = _png(Path(path).read_bytes())
                caption = f"{record['name']} ({record['runner']}) — {Path(path).name}"
                figures.append(
                    f"<figure><img class='ov' src='{src}'>"
                    f"<figcaption>{_e(caption)}</figcaption></figure>"
                )
    return "".join(figures)


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))
