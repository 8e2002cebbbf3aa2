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
import sys
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.figures import figure_png, pyplot

LAST = 5  # epochs in the "last-5 mean": less noisy than the best epoch picked on val


def read_run(spec: str) -> tuple[str, str, list[dict]]:
    """``PANEL/LABEL=RUN_DIR`` → (panel, label, history rows with a val mIoU)."""
    name, sep, folder = spec.partition("=")
    panel, slash, label = name.partition("/")
    if not sep or not slash or not folder:
        raise SystemExit(f"{spec}: write PANEL/LABEL=RUN_DIR, e.g. 'mnv3/alone=runs/alone40'")
    path = Path(folder) / "history.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path} does not exist: RUN_DIR must be an edgeseg train/distill --out")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("miou") is not None]
    if not rows:
        raise SystemExit(f"{path} has no epoch with a val mIoU")
    return panel, label, rows


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
    drive's curves are not val's)."""
    plt = pyplot()
    panels = list(dict.fromkeys(panel for panel, _, _ in runs))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), dpi=110, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        mine = [r for r in runs if r[0] == panel]
        # past ten curves the default cycle repeats colours: tab20 keeps every run apart
        colors = [
            plt.get_cmap("tab20")(i % 20) if len(mine) > 10 else f"C{i}" for i in range(len(mine))
        ]
        for i, (_, label, rows) in enumerate(mine):
            s = summary(rows)
            dashed = label.lower().startswith("alone")  # the baseline reads apart from KD runs
            legend = f"{label} (best {s['best']:.1f}, last-{LAST} {s['last_mean']:.1f})"
            ax.plot(
                [r["epoch"] for r in rows],
                [100 * r["miou"] for r in rows],
                marker=".",
                color=colors[i],
                linestyle="--" if dashed else "-",
                label=legend,
            )
        ax.set_title(panel)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{scored} mIoU (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return figure_png(fig)


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
