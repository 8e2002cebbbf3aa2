"""The verdict a bench report opens with: what to ship per device, what int8 bought, what it cost.

Three answers, computed from the rows alone (no runtime is asked anything):

- **best per device**: the fastest row of each device among those that ran and pass the gates
  (every ok row when no gate is set; ``unchecked`` rows do not count as passing);
- **int8 speed-up per runtime**: on each device and runner, an int8 row against the fp32 row of
  the same checkpoint at the same size (the sidecars' ``source_sha256`` and ``input_size``);
- **worst accuracy drop**: the most negative ΔmIoU against the artifacts' references, and where.

Latency is what the rankings use everywhere (``RunResult.one_thread_cpu_ms`` on a one-thread host
row, robust to a neighbour's load; else the median, else the mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeseg.benchmarks.base import RunResult
from edgeseg.benchmarks.bench import BenchReport
from edgeseg.errors import EdgesegError
from edgeseg.quantization import QuantLabel, is_int8
from edgeseg.sidecar import read_sidecar


@dataclass(frozen=True)
class Speedup:
    device: str
    runner: str
    int8: RunResult
    fp32: RunResult

    @property
    def ratio(self) -> float:
        return latency_ms(self.fp32) / latency_ms(self.int8)


def latency_ms(r: RunResult) -> float | None:
    """The latency rankings use (see the module docstring)."""
    if r.one_thread_cpu_ms is not None:
        return r.one_thread_cpu_ms
    if r.latency is None:
        return None
    return r.latency.median_ms if r.latency.median_ms is not None else r.latency.mean_ms


def passes(report: BenchReport, r: RunResult) -> bool:
    """Ran, has a latency, and passes every gate asked for."""
    if r.status != "ok" or latency_ms(r) is None:
        return False
    return not report.options.gates.any or (r.extra.get("gate") or {}).get("status") == "pass"


def best_per_device(report: BenchReport) -> dict[str, RunResult | None]:
    """Device → its fastest passing row (None: rows ran there but none passes)."""
    out: dict[str, RunResult | None] = {}
    for r in report.results:
        out.setdefault(r.device, None)
        best = out[r.device]
        if passes(report, r) and (best is None or latency_ms(r) < latency_ms(best)):
            out[r.device] = r
    return out


def int8_speedups(report: BenchReport) -> list[Speedup]:
    """int8 rows against the fp32 row of the same source, per device and runner."""
    rows = [r for r in report.results if r.status == "ok" and latency_ms(r)]
    fp32 = {
        (r.device, r.runner, _source(r)): r
        for r in rows
        if (r.quantization or "") == QuantLabel.FP32 and _source(r)
    }
    found = []
    for r in rows:
        partner = fp32.get((r.device, r.runner, _source(r)))
        if partner is not None and r.quantization and is_int8(r.quantization):
            found.append(Speedup(r.device, r.runner, r, partner))
    return found


def _clock(r: RunResult) -> str:
    """Which latency :func:`latency_ms` took, said beside the number."""
    if r.one_thread_cpu_ms is not None:
        return "(thread CPU)"
    return "(median)" if r.latency and r.latency.median_ms is not None else "(mean)"


def worst_drop(report: BenchReport) -> RunResult | None:
    """The row with the most negative ΔmIoU against its reference (None: nothing compared)."""
    compared = [r for r in report.results if "delta" in (r.extra.get("reference") or {})]
    return min(compared, key=lambda r: r.extra["reference"]["delta"], default=None)


def _source(r: RunResult) -> tuple | None:
    """(checkpoint sha256, input size) of a row's artifact, from its sidecar (None: unknown)."""
    try:
        meta = read_sidecar(Path(r.artifact), missing_ok=True, validate=False)
    except EdgesegError:
        return None
    sha, size = meta.get("source_sha256"), meta.get("input_size")
    return (sha, tuple(size)) if sha and isinstance(size, list) else None


def verdict_lines(report: BenchReport) -> list[str]:
    """The summary as plain sentences (the HTML report's opening, also usable on a terminal)."""
    lines = []
    for device, row in best_per_device(report).items():
        if row is None:
            gated = "passes the gates" if report.options.gates.any else "ran"
            lines.append(f"best on {device}: none — no artifact {gated}")
            continue
        ref = row.extra.get("reference") or {}
        accuracy = f", mIoU {100 * row.miou:.1f}" if row.miou is not None else ""
        if "delta" in ref:
            accuracy += f" (Δ {100 * ref['delta']:+.2f})"
        lines.append(
            f"best on {device}: {Path(row.artifact).name} ({row.runner}, {row.quantization}) "
            f"— {latency_ms(row):.2f} ms {_clock(row)}{accuracy}"
        )
    for s in int8_speedups(report):
        lines.append(
            f"int8 speed-up, {s.runner} on {s.device}: {s.ratio:.2f}× "
            f"({Path(s.int8.artifact).name} vs {Path(s.fp32.artifact).name})"
        )
    worst = worst_drop(report)
    if worst is None:
        lines.append("worst accuracy drop: — (no row has a reference to compare with)")
    else:
        ref = worst.extra["reference"]
        ratio = f", ratio {ref['ratio']:.3f}" if ref.get("ratio") is not None else ""
        lines.append(
            f"worst accuracy drop: {100 * ref['delta']:+.2f} mIoU points{ratio} — "
            f"{Path(worst.artifact).name} ({worst.runner}) on {worst.device}"
        )
    return lines
