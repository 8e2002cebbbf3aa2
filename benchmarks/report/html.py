"""One self-contained HTML report that opens with the verdict.

Top to bottom: the verdict (:mod:`.summary`: best artifact per device among those passing the
gates, int8 speed-up per runtime, worst accuracy drop and where), the settings as a list, the
results table (gate failures in red; it fits the page: long names wrap and the least needed
columns fold away on narrow screens), per-class IoU per artifact as a heat table with the
references beside them, the accuracy-vs-latency plot, and overlays: each picture's ground truth
next to every artifact's prediction, under a class legend. Images are inlined (base64), so the
file can be mailed or attached to a CI run as it is.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.bench import BenchReport
from edgeseg.benchmarks.report.plot import plot_png
from edgeseg.benchmarks.report.records import flat_row, report_dict
from edgeseg.benchmarks.report.summary import verdict_lines
from edgeseg.benchmarks.report.table import gate_line, gates_asked

_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em auto;padding:0 1em;color:#222;
max-width:1400px}h1{margin-bottom:.2em}
section.verdict{border-left:5px solid #2a7;background:#f2fbf6;padding:.6em 1em;margin:1em 0}
section.verdict.failed{border-color:#c33;background:#fdf0f0}
section.verdict ul{margin:.3em 0;padding-left:1.2em}
dl.settings{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;font-size:14px}
dl.settings dt{font-weight:600}dl.settings dd{margin:0;overflow-wrap:anywhere}
.fit{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}
td,th{border:1px solid #ccc;padding:3px 5px}th{background:#f0f0f0}
td.num{text-align:right;white-space:nowrap}td.name{overflow-wrap:anywhere;min-width:10ch}
tr.failed{background:#fde8e8}tr.skipped{background:#f4f4f4}
tr.gate-fail td{background:#f8d0d0;color:#900}tr.gate-fail td.gate{font-weight:700}
table.heat td.num{color:#111}
@media (max-width:1000px){.lo{display:none}}
.legend span{display:inline-block;margin:0 1em .3em 0;font-size:13px}
.legend i{display:inline-block;width:1em;height:1em;vertical-align:-2px;margin-right:.3em;
border:1px solid #888}
.overlays{display:flex;flex-wrap:wrap;gap:.6em;margin-bottom:1em}
figure{margin:0}figcaption{font-size:12px;max-width:240px;overflow-wrap:anywhere}
img.ov{width:240px;height:auto;image-rendering:pixelated}img.plot{max-width:100%}"""

# (header, flat_row key, digits or None for text, class): the columns the page shows
_COLUMNS = (
    ("artifact", "name", None, "name"),
    ("runner", "runner", None, ""),
    ("device", "device", None, ""),
    ("quant", "quantization", None, ""),
    ("MB", "file_mb", 2, "num"),
    ("load ms", "load_ms", 1, "num lo"),
    ("median ms", "median_ms", 2, "num"),
    ("p90 ms", "p90_ms", 2, "num lo"),
    ("std ms", "std_ms", 2, "num lo"),
    ("RSS MB", "peak_rss_mb", 0, "num lo"),
    ("mIoU %", "miou", "%", "num"),
    ("ΔmIoU", "delta_miou", "±", "num"),
    ("ratio", "miou_ratio", 3, "num"),
    ("gate", "gate", None, "gate"),
    ("GMAC/s", "gmacs_per_s", 1, "num lo"),
)


def render_html(report: BenchReport) -> str:
    data = report_dict(report)
    records = data["records"]
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>edgeseg bench</title><style>{_STYLE}</style><h1>edgeseg bench</h1>",
        _verdict(report),
        "<h2>Settings</h2>" + _settings(data, report),
        "<h2>Results</h2>" + _table(records),
        _notes(records),
        _heat(records),
        f"<h2>Accuracy vs latency</h2><img class='plot' alt='accuracy vs latency plot' "
        f"src='{_png(plot_png(report))}'>",
        _overlays(report, records),
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_html(report: BenchReport, path: Path) -> Path:
    text = render_html(report)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _verdict(report: BenchReport) -> str:
    gates = gate_line(report)
    failed = bool(report.gate_failed or report.failed)
    head = _e(gates) if gates else "no gates set: every row that ran counts"
    items = "".join(f"<li>{_e(line)}</li>" for line in verdict_lines(report))
    state = " failed" if failed else ""
    return f"<section class='verdict{state}' id='verdict'><b>{head}</b><ul>{items}</ul></section>"


def _settings(data: dict, report: BenchReport) -> str:
    """The run's settings as label: value pairs a reader can scan (not a Python dict)."""
    host, s = data["host"], data["settings"]
    pairs = [
        ("created", data["created"]),
        ("host", f"{host.get('processor')} ({host.get('cpus')} CPUs, {host.get('platform')})"),
        ("timing", f"{s['warmup']} warm-up + {s['runs']} timed runs, {s['threads']} thread(s)"),
        ("devices", ", ".join(s["devices"])),
        ("runner", s["runner"] or "by file type"),
        (
            "data",
            f"{s['data']} ({s['split']}, {s['images'] or 'all'} images)" if s["data"] else None,
        ),
        ("class map", s["class_map"]),
        ("gates", gates_asked(report.options.gates)),
        ("roofline peak", _roofline(data["roofline"])),
    ]
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in pairs if v)
    return f"<dl class='settings'>{rows}</dl>"


def _roofline(peak: dict | None) -> str | None:
    if not peak:
        return None
    int8 = f"{peak['int8_gmacs']:.1f}" if peak.get("int8_gmacs") else "—"
    return (
        f"{peak['size']}³ GEMM, {peak['threads']} thread(s): fp32 {peak['fp32_gmacs']:.1f} "
        f"GMAC/s, int8 {int8} GMAC/s ({peak.get('int8_method')})"
    )


def _table(records: list[dict]) -> str:
    shown = [c for c in _COLUMNS if any(flat_row(r)[c[1]] is not None for r in records)]
    head = "".join(f"<th class='{c[3]}'>{_e(c[0])}</th>" for c in shown)
    rows = []
    for record in records:
        row = flat_row(record)
        gate = ((record.get("extra") or {}).get("gate") or {}).get("status")
        row["gate"] = gate  # the word; the why is in the notes below the table
        cells = "".join(
            f"<td class='{cls}'{_title(key, record)}>{_cell(row[key], digits)}</td>"
            for _, key, digits, cls in shown
        )
        rows.append(f"<tr class='{_e(row['status'])} gate-{gate}'>{cells}</tr>")
    return f"<div class='fit'><table><tr>{head}</tr>{''.join(rows)}</table></div>"


def _title(key: str, record: dict) -> str:
    """The full path on the name cell (the page shows the file name only)."""
    return f" title='{_e(record['artifact'])}'" if key == "name" else ""


def _cell(value, digits) -> str:
    if value is None:
        return "—"
    if digits == "%":
        return f"{100 * value:.1f}"
    if digits == "±":
        return f"{100 * value:+.2f}"
    if isinstance(digits, int):
        return f"{value:.{digits}f}"
    return _e(value)


def _notes(records: list[dict]) -> str:
    """Why a row failed, was skipped or failed its gate: the table keeps one word for it."""
    items = []
    for i, record in enumerate(records, 1):
        gate = (record.get("extra") or {}).get("gate") or {}
        why = record["reason"] if record["status"] != "ok" else ""
        if gate.get("status") in ("fail", "unchecked"):
            why = f"gate {gate['status']}: {gate.get('why', '')}"
        if why:
            items.append(f"<li>{i}. {_e(record['name'])} on {_e(record['device'])}: {_e(why)}</li>")
    return f"<ul class='notes'>{''.join(items)}</ul>" if items else ""


def _heat(records: list[dict]) -> str:
    """Per-class IoU, one row per artifact × device and per reference, coloured red → green."""
    rows: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for r in records:
        if r["status"] != "ok" or not r.get("per_class_iou"):
            continue
        ref = (r.get("extra") or {}).get("reference") or {}
        if ref.get("per_class_iou"):
            key = repr(sorted(ref["per_class_iou"].items()))
            if key not in seen:
                seen.add(key)
                rows.append(
                    (f"reference (checkpoint, {ref['images']} images)", ref["per_class_iou"])
                )
        rows.append((f"{r['name']} · {r['runner']} · {r['device']}", r["per_class_iou"]))
    if not rows:
        return ""
    classes = list(rows[0][1])
    head = "<th>artifact · runner · device</th>" + "".join(f"<th>{_e(c)}</th>" for c in classes)
    body = "".join(
        f"<tr><td class='name'>{_e(label)}</td>"
        + "".join(_heat_cell(ious.get(c)) for c in classes)
        + "</tr>"
        for label, ious in rows
    )
    table = f"<table class='heat'><tr>{head}</tr>{body}</table>"
    return f"<h2>Per-class IoU (%)</h2><div class='fit'>{table}</div>"


def _heat_cell(iou: float | None) -> str:
    if iou is None:
        return "<td class='num'>n/a</td>"
    hue = round(120 * max(0.0, min(1.0, iou)))
    return f"<td class='num' style='background:hsl({hue},65%,78%)'>{100 * iou:.1f}</td>"


def _overlays(report: BenchReport, records: list[dict], per_row: int = 3) -> str:
    """Ground truth, then every artifact's prediction, per picture; a legend above."""
    by_image: dict[str, list[tuple[str, str]]] = {}
    for record in records:
        for path in (record.get("extra") or {}).get("overlays", [])[:per_row]:
            if Path(path).is_file():
                caption = f"{record['name']} ({record['runner']}, {record['device']})"
                by_image.setdefault(Path(path).stem, []).append((caption, path))
    if not by_image:
        return ""
    truth, legend = _truths(report, sorted(by_image))
    figures = []
    for stem in sorted(by_image):
        found = [("ground truth", truth[stem])] if stem in truth else []
        found += [(c, _png(Path(p).read_bytes())) for c, p in by_image[stem]]
        figures.append(
            "<div class='overlays'>"
            + "".join(
                f"<figure><img class='ov' alt='{_e(c)}' src='{src}'><figcaption>"
                f"picture {_e(stem)}: {_e(c)}</figcaption></figure>"
                for c, src in found
            )
            + "</div>"
        )
    return "<h2>Overlays</h2>" + legend + "".join(figures)


def _truths(report: BenchReport, stems: list[str]) -> tuple[dict[str, str], str]:
    """Ground-truth overlays (as data URIs) of pictures ``NNN`` and the class legend, drawn the
    way the predictions were (:func:`edgeseg.contract.overlay`, same opacity)."""
    from PIL import Image

    from edgeseg.contract import overlay
    from edgeseg.data import build_dataset
    from edgeseg.errors import EdgesegError

    options = report.options.accuracy
    try:
        dataset = build_dataset(options.data, options.split)
    except EdgesegError:
        return {}, ""
    info = dataset.info
    legend = "".join(
        f"<span><i style='background:rgb{tuple(rgb)}'></i>{_e(name)}</span>"
        for name, rgb in zip(info.classes, info.palette)
    )
    out = {}
    for stem in stems:
        if stem.isdigit() and int(stem) < len(dataset):
            image = np.asarray(dataset.load_image(int(stem)).convert("RGB"))
            blended = overlay(image, dataset.load_mask(int(stem)), info.palette, 0.5)
            buffer = io.BytesIO()
            Image.fromarray(blended).save(buffer, format="PNG")
            out[stem] = _png(buffer.getvalue())
    return out, f"<p class='legend'>{legend}</p>"


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))
