"""Val mIoU per epoch of training runs, side by side: where KD leads, and where it stops leading.

A best-epoch number hides the shape that decides whether distillation paid: on CamVid KD leads
the student alone early and the student alone catches up later (``distill_camvid.md``). This
plots each run's ``history.jsonl`` (written by ``edgeseg train`` and ``edgeseg distill``) and
prints best / last-5-mean per run.

Run: ``python -m benchmarks.studies.distill_curves "MobileNetV3/alone s0=runs/alone40"
"MobileNetV3/CWD s0=runs/cwd40" "liteseg/alone=runs/lite" --out
benchmarks/results/distill_curves.png`` — each argument is ``PANEL/LABEL=RUN_DIR``; runs with the
same PANEL share a plot, and runs whose LABEL starts with "alone" are drawn dashed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.figures import figure_png, pyplot

LAST = 5  # epochs in the "last-5 mean": less noisy than the best epoch picked on val
CROWDED = 8  # runs in one panel beyond which each study is drawn as its seed mean


def read_run(spec: str) -> tuple[str, str, list[dict]]:
    """``PANEL/LABEL=RUN_DIR`` → (panel, label, history rows with a val mIoU)."""
    name, sep, folder = spec.partition("=")
    panel, slash, label = name.partition("/")
    if not sep or not slash or not folder:
        raise SystemExit(f"{spec}: write PANEL/LABEL=RUN_DIR, e.g. 'mnv3/alone=runs/alone40'")
    path = Path(folder) / "history.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path} does not exist: RUN_DIR must be an edgeseg train/distill --out")
    rows = scored_epochs(path)
    if not rows:
        raise SystemExit(f"{path} has no epoch with a val mIoU")
    return panel, label, rows


def scored_epochs(path: Path) -> list[dict]:
    """The rows of a ``history.jsonl`` that carry a scored mIoU (an epoch without validation
    has none)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("miou") is not None]


def summary(rows: list[dict]) -> dict[str, float]:
    best = max(rows, key=lambda r: r["miou"])
    last = rows[-LAST:]
    return {
        "best": 100 * best["miou"],
        "best_epoch": best["epoch"],
        "last_mean": 100 * sum(r["miou"] for r in last) / len(last),
    }


def plot_png(runs: list[tuple[str, str, list[dict]]], scored: str = "val") -> bytes:
    """One panel per distinct panel name; ``scored`` names the split on the y axis (a held-out
    drive's curves are not val's). A panel of more than ``CROWDED`` runs draws each study's
    seed mean with its min–max band instead: nineteen seed curves under one legend hid the
    curves they named."""
    plt = pyplot()
    panels = list(dict.fromkeys(panel for panel, _, _ in runs))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), dpi=110, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        mine = [(label, rows) for p, label, rows in runs if p == panel]
        lines = seed_means(mine) if len(mine) > CROWDED else [(lb, r, None) for lb, r in mine]
        for i, (label, rows, band) in enumerate(lines):
            # past ten curves the default cycle repeats colours: tab20 keeps every run apart
            color = plt.get_cmap("tab20")(i % 20) if len(lines) > 10 else f"C{i}"
            s = summary(rows)
            dashed = label.lower().startswith("alone")  # the baseline reads apart from KD runs
            epochs = [r["epoch"] for r in rows]
            ax.plot(
                epochs,
                [100 * r["miou"] for r in rows],
                marker="." if band is None else None,
                color=color,
                linestyle="--" if dashed else "-",
                label=f"{label} (best {s['best']:.1f}, last-{LAST} {s['last_mean']:.1f})",
            )
            if band is not None:
                ax.fill_between(epochs, *band, color=color, alpha=0.15, linewidth=0)
        ax.set_title(panel)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{scored} mIoU (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return figure_png(fig)


def seed_means(
    runs: list[tuple[str, list[dict]]],
) -> list[tuple[str, list[dict], tuple[list[float], list[float]]]]:
    """Runs labelled ``NAME sN`` grouped by NAME: (``NAME, mean of k``, the mean mIoU at each
    epoch every seed reached, (min, max) in percent there)."""
    groups: dict[str, list[list[dict]]] = {}
    for label, rows in runs:
        groups.setdefault(re.sub(r" s\d+$", "", label), []).append(rows)
    lines = []
    for name, seeds in groups.items():
        by_epoch = [{r["epoch"]: r["miou"] for r in rows} for rows in seeds]
        epochs = sorted(set.intersection(*(set(m) for m in by_epoch)))
        values = [[m[e] for m in by_epoch] for e in epochs]
        mean = [{"epoch": e, "miou": sum(v) / len(v)} for e, v in zip(epochs, values, strict=True)]
        band = ([100 * min(v) for v in values], [100 * max(v) for v in values])
        label = f"{name}, mean of {len(seeds)}" if len(seeds) > 1 else name
        lines.append((label, mean, band))
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.studies.distill_curves")
    parser.add_argument("runs", nargs="+", help="PANEL/LABEL=RUN_DIR")
    parser.add_argument("--out", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    runs = [read_run(spec) for spec in args.runs]
    for panel, label, rows in runs:
        s = summary(rows)
        print(
            f"{panel:>14} | {label:<28} best {s['best']:.2f} (epoch {s['best_epoch']}) "
            f"last-{LAST} mean {s['last_mean']:.2f}"
        )
    png = plot_png(runs)
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_bytes(png)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
