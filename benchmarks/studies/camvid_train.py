"""A real CamVid run: the library's ``fit`` on the SegNet split, val mIoU, and its exact command.

Run: ``python -m benchmarks.studies.camvid_train [edgeseg train options…]`` — e.g.
``python -m benchmarks.studies.camvid_train liteseg_efficientnet_lite0 --size 240x320 --epochs 20
--backbone-weights imagenet --class-weights enet``. The options are ``edgeseg train``'s (``--help``
lists them and records nothing), mapped onto ``TrainConfig``; ``--data`` is always CamVid, from
``$EDGESEG_SHARED`` (or ``../shared``), and the results record the equivalent ``edgeseg train``
command. Writes ``RESULTS/camvid_train.{json,md}`` (``--results``, default
``benchmarks/results``), both or neither.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.studies import recipe
from edgeseg.atomic import atomic_path
from edgeseg.errors import EdgesegError
from edgeseg.evaluate import evaluate_checkpoint
from edgeseg.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"


def shared_root() -> Path:
    """The shared data folder: ``$EDGESEG_SHARED``, else ``shared/`` beside the repository."""
    return Path(os.environ.get("EDGESEG_SHARED", REPO.parent / "shared"))


def camvid_spec() -> str:
    path = shared_root() / "data" / "camvid"
    if not path.is_dir():
        sys.exit(f"CamVid not found at {path}: set EDGESEG_SHARED")
    return f"camvid:{path}"


def parse(argv: list[str]) -> tuple[TrainConfig, Path]:
    """``edgeseg train``'s options (but ``--data``, always CamVid) → the config, and RESULTS."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.camvid_train",
        description="edgeseg train on CamVid; --out defaults to runs/camvid_train here",
    )
    parser.add_argument("arch", help="model name (see `edgeseg models`)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the record goes")
    recipe.add_options(parser, TrainConfig, exclude={"data"})
    args = parser.parse_args(argv)  # --help: prints the options and exits before any work
    options = {"out": REPO / "runs" / "camvid_train", **recipe.given(args, TrainConfig)}
    options |= {"data": camvid_spec(), "progress": False}  # always CamVid, always quiet
    return TrainConfig(**options), args.results  # (``arch`` is among the given fields)


def main(argv: list[str]) -> int:
    cfg, results = parse(argv)
    edgeseg_command = recipe.shown(recipe.command(cfg))  # a config it cannot spell fails here
    history_path = cfg.out / "history.jsonl"
    started, started_at = time.perf_counter(), time.time()
    recipe.execute(cfg)
    seconds = time.perf_counter() - started
    if not history_path.is_file() or history_path.stat().st_mtime < started_at:
        # a run that trained nothing must not overwrite the recorded result with old history
        sys.exit(f"edgeseg train wrote no new history in {cfg.out}: nothing recorded")
    history = [json.loads(x) for x in history_path.read_text().splitlines()]
    best = max(history, key=lambda r: r.get("miou", -1))
    command = "python -m benchmarks.studies.camvid_train " + " ".join(argv)
    record = {
        "command": command,
        "edgeseg_command": edgeseg_command,
        "wall_seconds": round(seconds, 1),
        "epochs": len(history),
        "best_epoch": best["epoch"],
        "best_val_miou": round(best["miou"], 4),
        "per_class_iou": per_class_iou(cfg.out),
        "mean_epoch_train_seconds": round(
            sum(r["train_seconds"] for r in history) / len(history), 1
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
        "history": history,
    }
    text = markdown(record, seconds)  # both files rendered before either is written
    with atomic_path(results / "camvid_train.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    with atomic_path(results / "camvid_train.md") as tmp:
        tmp.write_text(text)
    return 0


def per_class_iou(out: Path) -> dict[str, Any] | None:
    """The best checkpoint's per-class val IoU (as ``edgeseg eval --json``); None if it fails."""
    try:
        result = evaluate_checkpoint(out / "best.pt", out=out / "eval", progress=False)
    except EdgesegError:
        return None
    return json.loads(result.report.read_text()).get("per_class_iou")


def markdown(record: dict[str, Any], seconds: float) -> str:
    rows = "\n".join(
        f"| {name} | {'n/a' if v is None else f'{100 * v:.1f}'} |"
        for name, v in (record["per_class_iou"] or {}).items()
    )
    return (
        f"# CamVid (SegNet split, 367 train / 101 val, 11 classes, void ignored)\n\n"
        f"Command: `{record['command']}`\n\n"
        f"- best val mIoU **{100 * record['best_val_miou']:.2f}** at epoch "
        f"{record['best_epoch']} of {record['epochs']}\n- wall time {seconds / 60:.1f} min "
        f"({record['mean_epoch_train_seconds']} s train per epoch), {record['machine']}\n\n"
        f"| class | IoU |\n|---|---:|\n{rows}\n"
    )


if __name__ == "__main__":
    recipe.study_main(main)
