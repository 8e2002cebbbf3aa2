"""The rich table ``edgeseg bench`` prints: one row per artifact × device, ❌/⏭ rows with why."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from edgeseg.benchmarks.bench import BenchReport
from edgeseg.benchmarks.report.records import flat_row, report_dict

_ICONS = {"ok": "✅", "failed": "❌", "skipped": "⏭"}
_GATE_ICONS = {"fail": "🚫", "unchecked": "❔"}
_GATE_STYLE = {"pass": "green", "fail": "bold red", "unchecked": "yellow"}


def bench_table(report: BenchReport) -> Table:
    data = report_dict(report)
    roofline = report.peak is not None
    s = report.options.timing
    table = Table(
        title=f"edgeseg bench — {s.threads} thread(s), {s.warmup} warm-up + {s.runs} "
        "timed runs; times in ms, RSS and size in MB, mIoU in %",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    phones = any(r["device"] != "host" for r in data["records"])
    compared = report.options.accuracy.data is not None
    gated = report.options.gates.any
    columns = [
        "",
        "artifact",
        "runner",
        *(["device"] if phones else []),
        "quant",
        "MB",
        "load",
        "median",
        "p90",
        "std",
        "RSS",
        "mIoU",
    ]
    columns += ["GMAC/s", "%peak"] if roofline else []
    columns += ["ΔmIoU", "ratio"] if compared else []
    columns += ["gate"] if gated else []
    for c in columns:
        wide = c == "artifact"  # the only column that may wrap: numbers never do
        table.add_column(
            c,
            justify="left" if c in ("artifact", "") else "right",
            overflow="fold",
            no_wrap=not wide,
            min_width=(14 if compared else 20) if wide else None,
        )
    ordered = by_artifact(data["records"])
    for n, (i, record) in enumerate(ordered):
        row = flat_row(record)
        mark = _mark(record)
        cells = [
            mark if row["status"] == "ok" and not _note(record) else f"{mark}{i}",
            escape(row["name"]),
            row["runner"],
            *([row["device"]] if phones else []),
            row["quantization"] or "—",
            _num(row["file_mb"], 2),
            _num(row["load_ms"], 1),
            _num(row["median_ms"], 2),
            _num(row["p90_ms"], 2),
            _num(row["std_ms"], 2),
            _num(row["peak_rss_mb"], 0),
            _pct(row["miou"]),
        ]
        if roofline:
            cells += [_num(row["gmacs_per_s"], 1), _pct(row["fraction_of_peak"])]
        if compared:
            no_ref = "no ref" if row["status"] == "ok" and row["miou"] is not None else "—"
            delta = row["delta_miou"]
            cells += [
                no_ref if delta is None else f"{100 * delta:+.2f}",
                _num(row["miou_ratio"], 3),
            ]
        verdict = (record.get("extra") or {}).get("gate") or {}
        if gated:
            status = verdict.get("status")
            cells.append(f"[{_GATE_STYLE[status]}]{status}[/]" if status in _GATE_STYLE else "—")
        last = n + 1 == len(ordered) or ordered[n + 1][1]["artifact"] != record["artifact"]
        table.add_row(
            *cells,
            style="red" if verdict.get("status") == "fail" else None,
            end_section=phones and last,
        )
    return table


def by_artifact(records: list[dict]) -> list[tuple[int, dict]]:
    """(row number, record), grouped artifact × device: each artifact's devices together, in
    the order the artifacts and devices were given (the numbers stay those of the notes)."""
    first: dict[str, int] = {}
    for record in records:
        first.setdefault(record["artifact"], len(first))
    numbered = list(enumerate(records, 1))
    return sorted(numbered, key=lambda item: first[item[1]["artifact"]])


def gate_line(report: BenchReport) -> str:
    """One line: how many rows passed, failed and could not be checked, and the gates."""
    g = report.options.gates
    if not g.any:
        return ""
    counts = {"pass": 0, "fail": 0, "unchecked": 0}
    for r in report.results:
        counts[(r.extra.get("gate") or {}).get("status", "unchecked")] += 1
    verdict = "FAILED" if counts["fail"] else "not all checked" if counts["unchecked"] else "passed"
    return (
        f"gates ({gates_asked(g)}): {verdict} — {counts['pass']} pass, "
        f"{counts['fail']} fail, {counts['unchecked']} unchecked"
    )


def bench_notes(report: BenchReport) -> list[str]:
    """``❌2 name: reason`` lines for the rows marked with a number in the table."""
    lines = []
    for i, record in enumerate(report_dict(report)["records"], 1):
        note = _note(record)
        if note:
            lines.append(f"{_mark(record)}{i} {record['name']}: {note}")
    return lines


def gates_asked(g) -> str:
    """The gates of a :class:`~edgeseg.benchmarks.options.GateOptions`, in words."""
    asked = [
        f"ΔmIoU ≥ −{g.max_miou_drop:g} points" if g.max_miou_drop is not None else "",
        f"mIoU ratio ≥ {g.min_miou_ratio:g}" if g.min_miou_ratio is not None else "",
        f"median ≤ {g.max_latency_ms:g} ms" if g.max_latency_ms is not None else "",
    ]
    return ", ".join(a for a in asked if a)


def _mark(record: dict) -> str:
    status = ((record.get("extra") or {}).get("gate") or {}).get("status")
    if record["status"] == "ok" and status in _GATE_ICONS:
        return _GATE_ICONS[status]
    return _ICONS.get(record["status"], record["status"])


def _note(record: dict) -> str:
    if record["status"] != "ok":
        return record["reason"]
    verdict = (record.get("extra") or {}).get("gate") or {}
    if verdict.get("status") in _GATE_ICONS:
        return f"gate {verdict['status']}: {verdict.get('why', '')}"
    notes = [n for n in (record.get("extra") or {}).get("notes", []) if "not measured" in n]
    return notes[0] if notes else ""


def _num(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}"
