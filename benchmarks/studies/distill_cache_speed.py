"""Teacher-cache speed: epoch time of cached distillation vs plain training of the same student.

The claim under test (issue 3): with ``--teacher-cache`` an epoch costs ≤ 1.15× an epoch of
``edgeseg train`` on the same student, data, size, batch and workers (the Queen's lab reported
1.7-1.9× for distillation without a cache). Three runs on CamVid, same seed: ``plain`` (train),
``cached`` (distill ce+kd, teacher logits read from the cache, warped with the augmentation) and
``uncached`` (distill ce+kd, teacher run every step). Epoch time is the training loop's
``train_seconds`` (no validation), averaged over epochs. Filling the cache (one teacher pass over
the training set, paid once per dataset, size and teacher) is estimated as ``cache_seconds``:
the cached run's time outside its epochs minus the uncached run's (same setup and validation).

Each run calls the library (``fit`` / ``distill``) with its config; the results record the
equivalent ``edgeseg`` command. Run: ``OMP_NUM_THREADS=1 python -m
benchmarks.studies.distill_cache_speed [--size 96x128 --epochs 2]``. Without ``--teacher`` an
*untrained* ``deeplabv3_mobilenet_v3_large`` checkpoint with CamVid's classes is the teacher: only
time is measured, and a trained one costs the same. Writes
``benchmarks/results/distill_cache_speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from benchmarks.studies import recipe
from benchmarks.studies.camvid_train import camvid_spec
from edgeseg.atomic import atomic_path
from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
from edgeseg.data.camvid import CAMVID_CLASSES
from edgeseg.data.classes import voc_colormap
from edgeseg.distill.config import DistillConfig
from edgeseg.errors import EdgesegError
from edgeseg.models import create_model
from edgeseg.train import TrainConfig
from edgeseg.train.objective import has_aux_head
from edgeseg.utils import parse_size

REPO = Path(__file__).resolve().parents[2]
TARGET = 1.15
TEACHER_ARCH = "deeplabv3_mobilenet_v3_large"


def untrained_teacher(path: Path) -> Path:
    """A CamVid-class checkpoint of a teacher-sized model (random weights: timing only)."""
    torch.manual_seed(0)
    model = create_model(TEACHER_ARCH, num_classes=len(CAMVID_CLASSES)).eval()
    meta = CheckpointMeta(
        arch=TEACHER_ARCH,
        num_classes=len(CAMVID_CLASSES),
        classes=list(CAMVID_CLASSES),
        palette=[list(c) for c in voc_colormap(len(CAMVID_CLASSES))],
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        input_size=[360, 480],
        dataset="camvid",
        recipe={"note": "untrained, for timing only"},
        aux_loss=has_aux_head(model),
    )
    return save_checkpoint(path, model, meta)


def run_config(name: str, args: argparse.Namespace, teacher: str) -> TrainConfig:
    """``plain``: train; ``cached`` / ``uncached``: distill ce+kd, with / without the cache."""
    common = {
        "arch": args.student,
        "data": camvid_spec(),
        "size": parse_size(args.size),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "seed": 0,
        "limit_train_batches": args.limit_train_batches,
        "limit_val_batches": 1,
        "out": Path(args.out) / name,
        "progress": False,
    }
    if name == "plain":
        return TrainConfig(**common)
    cache = str(Path(args.out) / "cache") if name == "cached" else None
    return DistillConfig(**common, teacher=teacher, losses=("ce", "kd"), teacher_cache=cache)


def _run(cfg: TrainConfig) -> dict:
    """Run ``cfg`` through the library; its epoch times and equivalent ``edgeseg`` command."""
    command = recipe.shown(recipe.command(cfg))
    started = time.perf_counter()
    try:
        recipe.execute(cfg)
    except EdgesegError as exc:
        raise SystemExit(f"{cfg.out.name} failed: {exc}: {command}") from exc
    wall = time.perf_counter() - started
    history = [json.loads(x) for x in (cfg.out / "history.jsonl").read_text().splitlines()]
    epochs = [round(r["train_seconds"], 2) for r in history]
    return {
        "run": cfg.out.name,
        "command": command,
        "epoch_seconds": epochs,
        "mean_epoch_seconds": round(sum(epochs) / len(epochs), 2),
        "wall_seconds": round(wall, 1),
    }


def _markdown(record: dict) -> str:
    lines = [
        "# Teacher cache: epoch time vs plain training",
        "",
        f"`{record['command']}`",
        "",
        record["setup"],
        "",
        "| run | epoch s (each) | mean epoch s | × plain | wall s | command |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in record["runs"]:
        lines.append(
            f"| {r['run']} | {', '.join(map(str, r['epoch_seconds']))} | "
            f"{r['mean_epoch_seconds']} | {r['ratio_to_plain']:.2f} | "
            f"{r['wall_seconds']} | `{r['command']}` |"
        )
    verdict = "meets" if record["cached_ratio"] <= TARGET else "misses"
    lines += [
        "",
        f"Cached / plain = **{record['cached_ratio']:.2f}×** ({verdict} the ≤ "
        f"{TARGET}× target); uncached / plain = {record['uncached_ratio']:.2f}×. Filling "
        f"the cache took ≈ {record['cache_seconds']} s once.",
        "",
        f"Load average before / after: {record['load_before']} / {record['load_after']} "
        "(2 shared cores: other developers' jobs add noise).",
    ]
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.studies.distill_cache_speed")
    parser.add_argument("--student", default="lraspp_mobilenet_v3_small")
    parser.add_argument("--teacher", default=None, help="teacher spec (default: untrained)")
    parser.add_argument("--size", default="96x128")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limit-train-batches", type=int, default=None, help="smoke runs")
    parser.add_argument("--out", default=str(REPO / "runs" / "distill_cache_speed"))
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    return parser


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    teacher = args.teacher or str(untrained_teacher(Path(args.out) / "teacher.pt"))
    load_before = [round(v, 2) for v in os.getloadavg()]
    plan = [run_config(name, args, teacher) for name in ("plain", "cached", "uncached")]
    runs = [_run(cfg) for cfg in plan]
    plain = runs[0]["mean_epoch_seconds"]
    for r in runs:
        r["ratio_to_plain"] = round(r["mean_epoch_seconds"] / plain, 3)
    cached = runs[1]
    record = {
        "command": " ".join(
            ["OMP_NUM_THREADS=1 python -m benchmarks.studies.distill_cache_speed", *argv]
        ),
        "setup": f"CamVid train (367 images) at {args.size}, {args.epochs} epochs, batch "
        f"{args.batch_size}, {args.workers} loader worker(s), student {args.student}, teacher "
        f"{args.teacher or TEACHER_ARCH + ' (untrained)'}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), {os.cpu_count()} cores, {platform.platform()}.",
        "runs": runs,
        "cached_ratio": cached["ratio_to_plain"],
        "uncached_ratio": runs[2]["ratio_to_plain"],
        "target": TARGET,
        "cache_seconds": round(
            cached["wall_seconds"]
            - runs[2]["wall_seconds"]
            + runs[2]["mean_epoch_seconds"] * args.epochs
            - cached["mean_epoch_seconds"] * args.epochs,
            1,
        ),
        "load_before": load_before,
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }
    results, text = Path(args.results), _markdown(record)  # rendered before anything is written
    with atomic_path(results / "distill_cache_speed.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    with atomic_path(results / "distill_cache_speed.md") as tmp:
        tmp.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    recipe.study_main(main)
