"""Distillation evidence on CamVid: one student (a) alone, (b) response KD, (c) response +
feature KD, (d) the best recipe, all with the same epochs, size and seed; val mIoU and epoch time.

Run: ``python -m benchmarks.distill_camvid --teacher runs/teacher/best.pt --student
lraspp_mobilenet_v3_small --size 180x240 --epochs 30`` (train the teacher first with ``edgeseg
train``). Extra ``edgeseg`` options after ``--`` go to every run. The dataset comes from
``$EDGESEG_SHARED`` (or ``../shared``). Writes ``RESULTS/distill_camvid.{json,md}``; smoke runs
(``--limit-train-batches``) should pass ``--results`` elsewhere so no toy number is published.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from benchmarks.camvid_train import camvid_spec
from edgeseg.cli import main as edgeseg_main
from edgeseg.utils import atomic_path

REPO = Path(__file__).resolve().parents[1]
RECIPES = {
    "a_alone": None,
    "b_response_kd": ["ce", "kd"],
    "c_response_feature": ["ce", "kd", "feature"],
    "d_best": ["ce", "kd:weight=0.5", "cwd", "warmup"],
}


def _run(name: str, losses, args: argparse.Namespace, extra: list[str]) -> dict:
    out = Path(args.out) / name
    common = ["--data", camvid_spec(), "--size", args.size, "--epochs", str(args.epochs),
              "--seed", str(args.seed), "--out", str(out), "--quiet", *extra]  # fmt: skip
    if losses is None:
        command = ["train", args.student, *common]
    else:
        command = ["distill", args.student, "--teacher", args.teacher, *common]
        command += [item for loss in losses for item in ("--loss", loss)]
    started = time.perf_counter()
    code = edgeseg_main(command)
    if code != 0:
        raise SystemExit(f"{name} failed (exit {code}): edgeseg {' '.join(command)}")
    history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    best = max(history, key=lambda r: r.get("miou", -1))
    epoch_seconds = sum(r["train_seconds"] for r in history) / len(history)
    return {"run": name, "command": "edgeseg " + " ".join(command), "best_miou": best["miou"],
            "best_epoch": best["epoch"], "epoch_seconds": round(epoch_seconds, 2),
            "wall_seconds": round(time.perf_counter() - started, 1)}  # fmt: skip


def main(argv: list[str]) -> int:
    own, _, extra = (argv[: argv.index("--")], None, argv[argv.index("--") + 1 :]) \
        if "--" in argv else (argv, None, [])  # fmt: skip
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distill_camvid")
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--student", default="lraspp_mobilenet_v3_small")
    parser.add_argument("--size", default="180x240")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "runs" / "distill_camvid"))
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--only", default=",".join(RECIPES), help="comma list of runs")
    args = parser.parse_args(own)
    runs = [_run(name, RECIPES[name], args, extra) for name in args.only.split(",")]
    alone = next((r["best_miou"] for r in runs if r["run"] == "a_alone"), None)
    record = {"command": "python -m benchmarks.distill_camvid " + " ".join(argv),
              "host": platform.platform(), "runs": runs,
              "best_kd_gain": None if alone is None else
              max(r["best_miou"] for r in runs) - alone}  # fmt: skip
    results = Path(args.results)
    with atomic_path(results / "distill_camvid.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    lines = ["# Distillation on CamVid", "", f"`{record['command']}`", "",
             "| run | val mIoU | epoch s | command |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['run']} | {r['best_miou']:.4f} | {r['epoch_seconds']} | `{r['command']}` |"
              for r in runs]  # fmt: skip
    with atomic_path(results / "distill_camvid.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
