"""The rich table ``edgeseg bench`` prints: one row per artifact × device, ❌/⏭ rows with why."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from edgeseg.benchmarks.bench import BenchReport
from edgeseg.benchmarks.report.records import flat_row, report_dict

_ICONS = {"ok": "✅", "failed": "❌", "skipped": "⏭"}


def bench_table(report: BenchReport) -> Table:
    data = report_dict(report)
    roofline = report.peak is not None
    s = report.options.timing
    table = Table(
        title=f"edgeseg bench — {s.threads} thread(s), {s.warmup} warm-up + {s.runs} "
        "timed runs; times in ms, RSS and size in MB, mIoU in %",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    phones = any(r["device"] != "host" for r in data["records"])
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
    for c in columns:
        wide = c == "artifact"  # the only column that may wrap: numbers never do
        table.add_column(
            c,
            justify="left" if c in ("artifact", "") else "right",
            overflow="fold",
            no_wrap=not wide,
            min_width=20 if wide else None,
        )
    ordered = by_artifact(data["records"])
    for n, (i, record) in enumerate(ordered):
        row = flat_row(record)
        mark = _ICONS.get(row["status"], row["status"])
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
        last = n + 1 == len(ordered) or ordered[n + 1][1]["artifact"] != record["artifact"]
        table.add_row(*cells, end_section=phones and last)
    return table


def by_artifact(records: list[dict]) -> list[tuple[int, dict]]:
    """(row number, record), grouped artifact × device: each artifact's devices together, in
    the order the artifacts and devices were given (the numbers stay those of the notes)."""
    first: dict[str, int] = {}
    for record in records:
        first.setdefault(record["artifact"], len(first))
    numbered = list(enumerate(records, 1))
    return sorted(numbered, key=lambda item: first[item[1]["artifact"]])


def bench_notes(report: BenchReport) -> list[str]:
    """``❌2 name: reason`` lines for the rows marked with a number in the table."""
    lines = []
    for i, record in enumerate(report_dict(report)["records"], 1):
        note = _note(record)
        if note:
            lines.append(f"{_ICONS.get(record['status'], '')}{i} {record['name']}: {note}")
    return lines


def _note(record: dict) -> str:
    if record["status"] != "ok":
        return record["reason"]
    notes = [n for n in (record.get("extra") or {}).get("notes", []) if "not measured" in n]
    return notes[0] if notes else ""


def _num(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}"
