"""Did the port keep its accuracy? Δ mIoU against the reference, and the pass/fail gates.

Every artifact ``edgeseg export`` writes carries its checkpoint's reference mIoU
(:mod:`edgeseg.reference`). :func:`judge` puts beside each measured row:

``extra["reference"]``
    ``{"miou", "delta", "ratio", "images", "per_class_iou"}``: the reference scored on exactly
    the images the row was measured on (host rows: the first ``images``; the app runner:
    ``extra.image_indices``), the row's mIoU minus it (0..1 units; negative: accuracy lost),
    row / reference, and the reference's per-class IoU there; or
    ``{"why": "…"}`` when there is nothing to compare with (no reference in the sidecar, other
    data, more images than the reference covers, no mIoU measured).
``extra["gate"]`` (only when a gate was asked for)
    ``{"status": "pass" | "fail" | "unchecked", "why": "…"}``: ``fail`` when any gate fails (the
    CLI exits :attr:`~edgeseg.errors.ExitCode.GATE_FAILED`), ``pass`` when every gate asked for
    was checked and passed, ``unchecked`` when one could not be (no reference, a failed row, a
    tool that reports no mIoU) and none failed — shown, never counted as a pass.
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.benchmarks.base import RunResult
from edgeseg.benchmarks.options import BenchOptions, GateOptions
from edgeseg.errors import EdgesegError
from edgeseg.reference import Reference, read_reference
from edgeseg.sidecar import read_sidecar

PASS, FAIL, UNCHECKED = "pass", "fail", "unchecked"


def judge(results: list[RunResult], options: BenchOptions) -> None:
    """Fill ``extra["reference"]`` (and ``extra["gate"]`` when gates are on) of every row."""
    references: dict[str, Reference | str] = {}
    for r in results:
        if r.artifact not in references:
            references[r.artifact] = _reference_of(Path(r.artifact))
        if options.accuracy.data is not None:
            r.extra["reference"] = compare(r, references[r.artifact], options)
        if options.gates.any:
            r.extra["gate"] = gate(r, options.gates)


def _reference_of(artifact: Path) -> Reference | str:
    """The artifact's reference, or why it has none."""
    try:
        meta = read_sidecar(artifact, missing_ok=True, validate=False)
        found = read_reference(meta, artifact.name)
    except EdgesegError as exc:
        return str(exc).splitlines()[0]
    if found is None:
        return "no reference (its sidecar has none: export it from a checkpoint with labelled data)"
    if list(found.size) != list(meta.get("input_size") or []):
        return f"the reference is at {found.size[0]}x{found.size[1]}, not the artifact's size"
    return found


def compare(r: RunResult, ref: Reference | str, options: BenchOptions) -> dict:
    """Δ mIoU and ratio of row ``r`` against ``ref``, on the images ``r`` was measured on."""
    if isinstance(ref, str):
        return {"why": ref}
    if r.status != "ok" or r.miou is None or not r.images:
        return {"why": "no mIoU measured" if r.status == "ok" else f"row {r.status}"}
    split = "val" if "image_indices" in r.extra else options.accuracy.split  # the app: val
    why = ref.covers(options.accuracy.data, split)
    if why:
        return {"why": why}
    indices = r.extra.get("image_indices") or list(range(r.images))
    if max(indices) >= ref.images:
        return {"why": f"reference covers {ref.images} images, the row used image {max(indices)}"}
    miou, per_class = ref.score(indices)
    if miou is None:
        return {"why": "no class in the reference's truth or prediction"}
    ratio = r.miou / miou if miou > 0 else None
    delta = r.miou - miou
    return {
        "miou": miou,
        "delta": delta,
        "ratio": ratio,
        "images": len(indices),
        "per_class_iou": per_class,
    }


def gate(r: RunResult, gates: GateOptions) -> dict:
    """``{"status", "why"}`` of row ``r`` under ``gates`` (see the module docstring)."""
    if r.status != "ok":
        return {"status": UNCHECKED, "why": f"row {r.status}"}
    failed, unchecked, passed = [], [], []
    if gates.max_latency_ms is not None:
        ms = _latency_ms(r)
        if ms is None:
            unchecked.append("no latency")
        elif ms > gates.max_latency_ms:
            failed.append(f"latency {ms:.2f} ms > {gates.max_latency_ms:g} ms")
        else:
            passed.append(f"latency {ms:.2f} ms ≤ {gates.max_latency_ms:g} ms")
    if gates.miou:
        _miou_gates(r.extra.get("reference") or {}, gates, failed, unchecked, passed)
    if failed:
        return {"status": FAIL, "why": "; ".join(failed)}
    if unchecked:
        return {"status": UNCHECKED, "why": "; ".join(unchecked + passed)}
    return {"status": PASS, "why": "; ".join(passed)}


def _miou_gates(ref: dict, gates: GateOptions, failed, unchecked, passed) -> None:
    if "delta" not in ref:
        unchecked.append(f"mIoU: {ref.get('why', 'no --data')}")
        return
    points = 100 * ref["delta"]
    if gates.max_miou_drop is not None:
        ok = -points <= gates.max_miou_drop + 1e-9
        words = f"ΔmIoU {points:+.2f} points (at most −{gates.max_miou_drop:g} allowed)"
        (passed if ok else failed).append(words)
    if gates.min_miou_ratio is not None:
        ratio = ref.get("ratio")
        if ratio is None:
            unchecked.append("mIoU ratio: the reference mIoU is 0")
            return
        ok = ratio >= gates.min_miou_ratio - 1e-12
        words = f"mIoU ratio {ratio:.4f} (at least {gates.min_miou_ratio:g} required)"
        (passed if ok else failed).append(words)


def _latency_ms(r: RunResult) -> float | None:
    """What the table shows: the median, else the mean (a tool that prints no median)."""
    if r.latency is None:
        return None
    return r.latency.median_ms if r.latency.median_ms is not None else r.latency.mean_ms


def gate_failed(results: list[RunResult]) -> list[RunResult]:
    """Rows whose gate failed."""
    return [r for r in results if (r.extra.get("gate") or {}).get("status") == FAIL]
