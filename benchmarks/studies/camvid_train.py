"""A real CamVid run: ``edgeseg train`` on the SegNet split, val mIoU, and its exact command.

Run: ``python -m benchmarks.studies.camvid_train [edgeseg train options…]`` — e.g.
``python -m benchmarks.studies.camvid_train liteseg_efficientnet_lite0 --size 240x320 --epochs 20
--backbone-weights imagenet --class-weights enet``. The dataset comes from ``$EDGESEG_SHARED``
(or ``../shared``). Writes ``benchmarks/results/camvid_train.{json,md}``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from edgeseg.cli import main as edgeseg_main
from edgeseg.utils import atomic_path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"


def camvid_spec() -> str:
    shared = Path(os.environ.get("EDGESEG_SHARED", REPO.parent / "shared"))
    path = shared / "data" / "camvid"
    if not path.is_dir():
        sys.exit(f"CamVid not found at {path}: set EDGESEG_SHARED")
    return f"camvid:{path}"


def main(argv: list[str]) -> int:
    out = REPO / "runs" / "camvid_train"
    args = ["train", *argv, "--data", camvid_spec(), "--out", str(out), "--quiet"]
    if {"--help", "-h"} & set(argv):  # show edgeseg train's options; record nothing
        return edgeseg_main(["train", "--help"])
    history_path = out / "history.jsonl"
    started, started_at = time.perf_counter(), time.time()
    code = edgeseg_main(args)
    if code != 0:
        return code
    seconds = time.perf_counter() - started
    if not history_path.is_file() or history_path.stat().st_mtime < started_at:
        # a run that trained nothing must not overwrite the recorded result with old history
        sys.exit(f"edgeseg train wrote no new history in {out}: nothing recorded")
    history = [json.loads(x) for x in history_path.read_text().splitlines()]
    best = max(history, key=lambda r: r.get("miou", -1))
    eval_code = edgeseg_main(["eval", str(out / "best.pt"), "--json", "--out", str(out / "eval")])
    report = json.loads((out / "eval" / "eval.json").read_text()) if eval_code == 0 else {}
    command = "python -m benchmarks.studies.camvid_train " + " ".join(argv)
    record = {
        "command": command,
        "edgeseg_command": "edgeseg " + " ".join(args),
        "wall_seconds": round(seconds, 1),
        "epochs": len(history),
        "best_epoch": best["epoch"],
        "best_val_miou": round(best["miou"], 4),
        "per_class_iou": report.get("per_class_iou"),
        "mean_epoch_train_seconds": round(
            sum(r["train_seconds"] for r in history) / len(history), 1
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
        "history": history,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_path(RESULTS / "camvid_train.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    rows = "\n".join(
        f"| {name} | {'n/a' if v is None else f'{100 * v:.1f}'} |"
        for name, v in (record["per_class_iou"] or {}).items()
    )
    with atomic_path(RESULTS / "camvid_train.md") as tmp:
        tmp.write_text(
            f"# CamVid (SegNet split, 367 train / 101 val, 11 classes, void ignored)\n\n"
            f"Command: `{command}`\n\n"
            f"- best val mIoU **{100 * record['best_val_miou']:.2f}** at epoch {best['epoch']} "
            f"of {len(history)}\n- wall time {seconds / 60:.1f} min "
            f"({record['mean_epoch_train_seconds']} s train per epoch), {record['machine']}\n\n"
            f"| class | IoU |\n|---|---:|\n{rows}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
