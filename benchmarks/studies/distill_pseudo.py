"""Pseudo-label distillation evidence: Google's VOC DeepLabV3 TFLite teaches a small student on
unlabeled CamVid images (no ground truth is read). Reported: the student's mIoU against the
teacher's own labels on held-out images (every 10th, never trained on) and the student/teacher
latency ratio, both as ``.tflite`` files in the same runtime (ai-edge-litert) and thread count.

Run: ``python -m benchmarks.studies.distill_pseudo --epochs 12`` (extra ``edgeseg distill`` options
after ``--``). The student is trained and exported through the library (``distill``,
``export_checkpoint``); the results record the equivalent ``edgeseg distill`` command. The
unlabeled folder is built under ``--out`` from symlinks to CamVid's train and val images.
Results go to the ``pseudo`` section of ``RESULTS/distill_camvid.json`` and the Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.studies import recipe
from benchmarks.studies.camvid_train import camvid_spec
from benchmarks.studies.distill_camvid import REPO, run_once, write_results
from edgeseg.checkpoint import load_checkpoint
from edgeseg.distill.config import DistillConfig
from edgeseg.export import export_checkpoint
from edgeseg.utils import parse_size

VOC_TFLITE = "models/deeplabv3_257_mv_gpu.tflite"


def unlabeled_folder(out: Path) -> Path:
    """``out/unlabeled/{train,val}_NAME.png`` → CamVid's images (their labels are never read)."""
    camvid = Path(camvid_spec().partition(":")[2])
    folder = out / "unlabeled"
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        for image in sorted((camvid / split).glob("*.png")):
            link = folder / f"{split}_{image.name}"
            if not link.is_symlink():
                link.symlink_to(image)
    return folder


def latency_ms(paths: list[Path], threads: int, runs: int, warmup: int = 5) -> list[dict]:
    """Median / mean ms of ``invoke()`` on a random input for each file (ai-edge-litert,
    ``threads`` threads). The files take turns call by call, so load from other processes on a
    shared machine falls on all of them alike and their ratio stays fair."""
    from ai_edge_litert.interpreter import Interpreter

    interpreters, shapes = [], []
    for path in paths:
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        data = np.random.default_rng(0).random(detail["shape"], dtype=np.float32)
        interpreter.set_tensor(detail["index"], data.astype(detail["dtype"]))
        interpreters.append(interpreter)
        shapes.append([int(v) for v in detail["shape"]])
    samples: list[list[float]] = [[] for _ in paths]
    for i in range(warmup + runs):
        for interpreter, times in zip(interpreters, samples, strict=True):
            started = time.perf_counter()
            interpreter.invoke()
            if i >= warmup:
                times.append(1000 * (time.perf_counter() - started))
    return [
        {
            "median_ms": round(statistics.median(t), 3),
            "mean_ms": round(statistics.fmean(t), 3),
            "runs": runs,
            "input_shape": shape,
        }
        for t, shape in zip(samples, shapes, strict=True)
    ]


def export_student(best: Path, out: Path) -> Path:
    """``best.pt`` exported to TFLite (as ``edgeseg export best.pt --target tflite``); the file."""
    found = sorted(out.glob("*.tflite"))
    if not found:
        outcomes = export_checkpoint(best, "tflite", parity_images=2, out=out)
        done = [o.result.path for o in outcomes if o.ok]
        if not done:
            reasons = "; ".join(o.parity.reason or o.parity.status for o in outcomes)
            raise SystemExit(f"export of {best} to tflite failed: {reasons}")
        found = done
    return found[0]


def student_config(args: argparse.Namespace, out: Path, extra: dict[str, Any]) -> DistillConfig:
    """The student's run: pseudo labels from the VOC teacher on the unlabeled folder."""
    options = {
        "arch": args.student,
        "data": "sample",  # ``edgeseg distill``'s default; ``unlabeled`` replaces it
        "teacher": args.teacher,
        "teacher_classes": "voc",
        "teacher_mean": (0.5, 0.5, 0.5),
        "teacher_std": (0.5, 0.5, 0.5),
        "unlabeled": str(unlabeled_folder(out)),
        "size": parse_size(args.size),
        "epochs": args.epochs,
        "seed": args.seed,
        "teacher_cache": str(out / "teacher_cache"),
        "out": out / "student",
        "progress": False,
    }
    return DistillConfig(**{**options, **extra})  # extra options win, as later flags did


def main(argv: list[str]) -> int:
    own, extra_argv = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    shared = Path(camvid_spec().partition(":")[2]).parents[1]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.studies.distill_pseudo")
    parser.add_argument("--teacher", default=str(shared / VOC_TFLITE))
    parser.add_argument("--student", default="lraspp_mobilenet_v3_small")
    parser.add_argument("--size", default="180x240")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="TFLite threads for latency")
    parser.add_argument("--runs", type=int, default=50, help="timed invocations per model")
    parser.add_argument("--out", default=str(REPO / "runs" / "distill_pseudo"))
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args(own)
    out = Path(args.out)
    extra = recipe.parse_options(extra_argv, DistillConfig, parser.prog + " … --")
    cfg = student_config(args, out, extra)
    command, wall = recipe.command(cfg), run_once(cfg)
    section = summarize(out, command, wall, args)
    print(json.dumps(write_results(Path(args.results), "pseudo", section), indent=2))
    return 0


def summarize(out: Path, command: list[str], wall: float, args) -> dict[str, Any]:
    history = [json.loads(x) for x in (out / "student" / "history.jsonl").read_text().splitlines()]
    best = max(history, key=lambda r: r.get("miou", -1))
    meta = load_checkpoint(out / "student" / "best.pt").meta
    ious = meta.metrics["per_class_iou"].items()
    per_class = {c: v for c, v in ious if v is not None}  # None: not labeled, not predicted
    student_file = export_student(out / "student" / "best.pt", out / "export")
    teacher, student = latency_ms([Path(args.teacher), student_file], args.threads, args.runs)
    return {
        "command": recipe.shown(command),
        "teacher": args.teacher,
        "images": len(list((out / "unlabeled").iterdir())),
        "held_out_every": 10,
        "epochs": args.epochs,
        "size": args.size,
        "best_agreement_miou": best["miou"],
        "best_epoch": best["epoch"],
        "last_agreement_miou": history[-1].get("miou"),
        "per_class_iou": per_class,
        "pixel_agreement": best.get("pixel_accuracy"),
        "epoch_seconds": round(sum(r["train_seconds"] for r in history) / len(history), 1),
        "wall_seconds": wall,
        "threads": args.threads,
        "teacher_latency": teacher,
        "student_latency": student,
        "student_file": str(student_file),
        "latency_ratio": round(student["median_ms"] / teacher["median_ms"], 3),
    }


def render_pseudo(p: dict[str, Any]) -> list[str]:
    t, s = p["teacher_latency"], p["student_latency"]
    classes = ", ".join(f"{c} {100 * v:.1f}" for c, v in p["per_class_iou"].items())
    return [
        "## 2. Pseudo-label distillation from Google's VOC DeepLabV3 TFLite (no ground truth)",
        "",
        f"`{p['command']}`",
        "",
        f"- {p['images']} unlabeled CamVid images (train + val photos, labels never read); every "
        f"{p['held_out_every']}th held out; student at {p['size']}, {p['epochs']} epochs "
        f"({p['epoch_seconds']} s/epoch, {p['wall_seconds'] / 60:.1f} min wall)",
        f"- student vs the teacher's labels (confidence ≥ 0.5) on the held-out images: "
        f"**{100 * p['best_agreement_miou']:.2f} mIoU** (epoch {p['best_epoch']}; last epoch "
        f"{100 * (p['last_agreement_miou'] or 0):.2f}), pixel agreement "
        f"{100 * (p['pixel_agreement'] or 0):.1f}%",
        f"- per-class IoU (classes present in teacher labels or student output): {classes}",
        f"- latency, ai-edge-litert, {p['threads']} thread(s), median of {t['runs']} calls taken "
        f"in turns: teacher "
        f"{t['median_ms']:.2f} ms at {t['input_shape']}, student {s['median_ms']:.2f} ms at "
        f"{s['input_shape']} → student/teacher **{p['latency_ratio']:.2f}×**",
        "",
    ]


if __name__ == "__main__":
    recipe.study_main(main)
