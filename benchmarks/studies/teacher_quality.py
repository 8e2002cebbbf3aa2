"""How good is a teacher, class by class, before a student spends hours learning from it?

Each ``--setting`` (teacher options, e.g. ``tta_scales=1.333;tta_flip=false`` for the ``tta:``
wrapper's sliding windows) is measured the way a distillation run measures its cached teacher
(:func:`edgeseg.distill.agreement.label_agreement`: the "teacher vs labels" line), on every
``--every``-th training image at ``--size``: mIoU, per-class IoU, and the seconds the teacher took
per image. So the numbers here are the ones ``edgeseg distill`` prints for the same teacher, data
and size (``--every 1``), and a cheaper look (``--every 16 --size 360x480``) at the full picture.

Run: ``python -m benchmarks.studies.teacher_quality --teacher
tta:$EDGESEG_SHARED/models/deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite
--teacher-classes cityscapes --class-map benchmarks/studies/classmaps/cityscapes_to_camvid.json
--setting "tta_scales=1;tta_flip=false" --setting "tta_scales=1.333;tta_flip=false" --size 360x480
--every 16 --heldout 0006R0`` (``--heldout``: the shared CamVid's training frames without that
drive, as the held-out gains studies train on; ``--data SPEC`` for any other dataset).
Writes ``RESULTS/teacher_quality.{json,md}``: one row per (teacher, setting, data, size, every),
replaced when rerun; hand-written notes below the table are kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.studies import recipe
from benchmarks.studies.camvid_train import camvid_spec
from benchmarks.studies.distill_gains import _portable
from benchmarks.studies.heldout import heldout_view
from edgeseg.atomic import atomic_path
from edgeseg.data import build_dataset
from edgeseg.data.subsets import IndexedDataset
from edgeseg.distill.agreement import LabelAgreement, label_agreement
from edgeseg.distill.cache import build_cache
from edgeseg.distill.classmap import resolve_class_map
from edgeseg.distill.teachers import TeacherOptions, build_teacher, parse_teacher_options
from edgeseg.errors import ConfigError
from edgeseg.utils import check_range, parse_size

REPO = Path(__file__).resolve().parents[2]
ROW_KEY = ("teacher", "setting", "data", "size", "every")


class Sampled(IndexedDataset):
    """Every N-th training image as a dataset of its own: the cache built over it is indexed by
    position here, not by the split's index (which ``label_agreement`` would otherwise look up)."""

    def source_index(self, index: int) -> int:
        return index


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.studies.teacher_quality")
    p.add_argument("--teacher", required=True, help="a teacher spec, as edgeseg distill takes")
    p.add_argument("--teacher-classes", help="voc | cityscapes | classes.txt | a,b,c")
    p.add_argument("--class-map", help="JSON {teacher class: student class | null}")
    p.add_argument(
        "--setting",
        action="append",
        help="teacher options joined by ';' (KEY=VALUE;…); repeat to compare; default: none",
    )
    p.add_argument("--data", help="dataset spec (default: the shared CamVid)")
    p.add_argument("--heldout", metavar="DRIVE", help="the shared CamVid without DRIVE's frames")
    p.add_argument("--size", default="120x160", help="HxW the logits and labels are read at")
    p.add_argument("--every", type=int, default=1, help="every N-th training image")
    p.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = p.parse_args(argv)
    check_range("--every", args.every, 1, whole=True)
    args.size = parse_size(args.size)
    args.setting = args.setting or [""]
    for setting in args.setting:
        options(setting)  # a malformed one is refused before any teacher runs
    return args


def options(setting: str) -> dict[str, str]:
    """``"a=1;b=2"`` → ``{"a": "1", "b": "2"}`` (the library's ``--teacher-option`` parser)."""
    return parse_teacher_options([part for part in setting.split(";") if part.strip()])


def measure(args: argparse.Namespace, images: Sampled, folder: Path, setting: str) -> dict:
    """One row: the teacher with ``setting`` against the labels of ``images``."""
    classes = tuple(images.info.classes)
    teacher = build_teacher(
        args.teacher,
        TeacherOptions(
            classes=args.teacher_classes, student_classes=classes, extra=options(setting)
        ),
    )
    class_map = resolve_class_map(teacher.classes, classes, args.class_map, teacher.num_classes)
    started = time.perf_counter()
    cache = build_cache(folder / "cache", teacher, class_map, images, args.size, progress=True)
    seconds = time.perf_counter() - started
    agreement = label_agreement(cache, images, classes, progress=False)
    if agreement is None:
        label = _data_label(args)
        raise ConfigError(f"--data {label}: none of the {len(images)} images has a labelled pixel")
    return row(args, setting, agreement, seconds / len(images))


def _data_label(args: argparse.Namespace) -> str:
    """The data as the row records it: a spec, or the shared CamVid (without a drive)."""
    return (args.data or "camvid") + (f" without {args.heldout}" if args.heldout else "")


def row(args, setting: str, agreement: LabelAgreement, seconds: float) -> dict:
    h, w = args.size
    return {
        "teacher": _portable(args.teacher),
        "setting": setting,
        "data": _data_label(args),
        "size": f"{h}x{w}",
        "every": args.every,
        "images": agreement.images,
        "miou": round(100 * agreement.miou, 2),
        "iou": {
            c: None if x is None else round(100 * x, 2)
            for c, x in zip(agreement.classes, agreement.iou)
        },
        "seconds_per_image": round(seconds, 3),
        "summary": agreement.summary(),
    }


def record(results: Path, rows: list[dict], command: str) -> None:
    """Merge ``rows`` into ``teacher_quality.json`` (same key: replaced) and redraw the table."""
    path = results / "teacher_quality.json"
    old = json.loads(path.read_text())["rows"] if path.is_file() else []
    keys = {tuple(r[k] for k in ROW_KEY) for r in rows}
    for r in rows:
        r["command"] = command
    merged = [r for r in old if tuple(r[k] for k in ROW_KEY) not in keys] + rows
    results.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"rows": merged}, indent=1) + "\n")
    md = results / "teacher_quality.md"
    with atomic_path(md) as tmp:
        tmp.write_text(recipe.with_notes(md, markdown(merged)))


def markdown(rows: list[dict]) -> str:
    classes = list(rows[0]["iou"]) if rows else []
    lines = [
        "# Teachers against the labels, class by class (before any student)",
        "",
        "Each row: the teacher's argmax (folded onto the student's classes) against the labels "
        "of every `every`-th training image, both read at `size` — what `edgeseg distill` "
        'prints as "teacher vs labels" for its cache. IoU in percent; s/image is the '
        "teacher's time on this machine (all settings of a command ran one after the other).",
        "",
        "| teacher | setting | data | size | images | mIoU | "
        + " | ".join(classes)
        + " | s/image |",
        "|---|---|---|---|---:|---:|" + "---:|" * len(classes) + "---:|",
    ]
    for r in rows:
        ious = " | ".join("–" if r["iou"][c] is None else f"{r['iou'][c]:.1f}" for c in classes)
        lines.append(
            f"| {Path(r['teacher']).name} | {r['setting'] or '(none)'} | {r['data']} | "
            f"{r['size']} | {r['images']} | {r['miou']:.2f} | {ious} | "
            f"{r['seconds_per_image']:.2f} |"
        )
    lines += ["", "## Commands", ""]
    for command in dict.fromkeys(r["command"] for r in rows):
        lines.append(f"- `{command}`")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="teacher_quality_") as folder:
        data = args.data or camvid_spec()
        if args.heldout:  # the view, like the cache, lives only as long as the study
            data = heldout_view(Path(data.split(":", 1)[1]), args.heldout, Path(folder))
        split = build_dataset(data, "train")
        images = Sampled(split, range(0, len(split), args.every))
        rows = [measure(args, images, Path(folder), setting) for setting in args.setting]
    for r in rows:
        print(f"{r['setting'] or '(none)'}: mIoU {r['miou']:.2f} — {r['summary']}", flush=True)
    portable = [_portable(a) for a in argv]  # shared files as $EDGESEG_SHARED/…
    shown = " ".join(a if " " not in a and ";" not in a else f'"{a}"' for a in portable)
    record(Path(args.results), rows, f"python -m benchmarks.studies.teacher_quality {shown}")
    return 0


if __name__ == "__main__":
    recipe.study_main(main)
    sys.exit(0)
