"""Does distillation pay? The same student alone and distilled, same epochs, size and seeds.

Protocols (CamVid train → val, 11 classes): ``equal`` (all 367 labels in both arms),
``labels_10pct`` / ``labels_25pct`` (``--labels`` with the shared fixed subsets: alone trains on
the subset — repeated to the split's length, so both arms take the same optimiser steps — and KD
trains on the whole split, the held-back images unlabelled, seen only through the teacher).

Run: ``python -m benchmarks.studies.distill_gains --protocol labels_10pct --name cityscapes
--teacher …/deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite --teacher-classes cityscapes
--class-map benchmarks/studies/classmaps/cityscapes_to_camvid.json --size 120x160 --epochs 10
--seeds 0 1 -- --class-weights enet --bn-momentum 0.1 --workers 1``. Every run calls the library
(``recipe.execute``) and is reused when its ``run.json`` records the same command (the "alone"
arm is shared by every teacher of a protocol). The study's number is the **last epoch's** val
mIoU (no checkpoint picked on val). Results: one entry per (protocol, teacher, recipe, size,
epochs) in ``RESULTS/distill_gains.json`` in the issue's exact shape; the commands, per-seed
numbers and curves go to ``distill_gains.md`` and ``distill_gains_<protocol>.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from benchmarks.studies import recipe
from benchmarks.studies.camvid_train import camvid_spec, shared_root
from benchmarks.studies.distill_camvid import run_once, summarize
from benchmarks.studies.distill_curves import plot_png, scored_epochs
from benchmarks.studies.heldout import SUBSETS, heldout_view
from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.bench import host_info
from edgeseg.distill.agreement import LabelAgreement
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.teachers import teacher_kinds
from edgeseg.train import TrainConfig
from edgeseg.utils import parse_size

REPO = Path(__file__).resolve().parents[2]
PROTOCOLS = {"equal": None, "labels_10pct": SUBSETS[0], "labels_25pct": SUBSETS[1]}
DEFAULT_RECIPE = ("ce:weight=1", "kd:weight=1,temperature=2")
DEFAULT_STUDENT = "lraspp_mobilenet_v3_small"  # its runs keep the folders they always had
STUDY_KEY = ("protocol", "student", "teacher", "recipe", "epochs", "size")  # one study


def parse(argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    cut = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.studies.distill_gains")
    p.add_argument("--protocol", choices=list(PROTOCOLS), required=True)
    p.add_argument("--name", required=True, help="Short name of the teacher (folder, table)")
    p.add_argument("--teacher", action="append", required=True)
    p.add_argument("--class-map", action="append")
    p.add_argument("--teacher-classes", action="append")
    p.add_argument("--teacher-weight", action="append")
    p.add_argument("--teacher-size")
    p.add_argument(
        "--teacher-option",
        action="append",
        help="KEY=VALUE for the teacher kind (e.g. tta_scales=1,1.5 for a tta: teacher)",
    )
    p.add_argument("--loss", action="append", help=f"default: {' '.join(DEFAULT_RECIPE)}")
    p.add_argument("--pseudo-labels", action="store_true")
    p.add_argument("--student", default=DEFAULT_STUDENT)
    p.add_argument("--size", default="120x160")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--out", default=str(REPO / "runs" / "distill_gains"))
    p.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    p.add_argument(
        "--heldout",
        metavar="DRIVE",
        help="Train without drive DRIVE's frames (e.g. 0006R0) and score on them instead of val; "
        "recorded in distill_gains_heldout_DRIVE.json",
    )
    p.add_argument(
        "--arm",
        choices=("both", "alone", "kd"),
        default="both",
        help="Run one arm only (to run arms in parallel; record with a later 'both' run)",
    )
    args = p.parse_args(argv[:cut])
    return args, recipe.parse_options(argv[cut + 1 :], TrainConfig, p.prog)


def configs(args: argparse.Namespace, extra: dict[str, Any], seed: int):
    """(alone, kd) library configs of one seed. With ``--heldout`` every option is checked on
    the shared CamVid first: the held-out view is written into ``--out``, and a refused option
    (``kd:correct_only=maybe``) used to leave it there."""
    data = camvid_spec()
    if args.heldout:
        _configs(args, extra, seed, data)
        data = heldout_view(Path(data.split(":", 1)[1]), args.heldout, Path(args.out))
    return _configs(args, extra, seed, data)


def _configs(args: argparse.Namespace, extra: dict[str, Any], seed: int, data: str):
    subset = PROTOCOLS[args.protocol]
    labels = str(Path(data.split(":", 1)[1]) / "splits" / subset) if subset else None
    folder = f"{args.protocol}{_heldout_tag(args)}_{args.size}_e{args.epochs}{_extras_tag(extra)}"
    if args.student != DEFAULT_STUDENT:  # another student's "alone" runs are other runs
        folder += f"_{args.student}"
    out = Path(args.out) / folder
    common = {
        "arch": args.student,
        "data": data,
        "size": parse_size(args.size),
        "epochs": args.epochs,
        "seed": seed,
        "labels": labels,
        "progress": False,
        **extra,
    }
    alone = TrainConfig(**common, out=out / f"alone_s{seed}")
    kd = DistillConfig(
        **common,
        out=out / f"{args.name}_s{seed}",
        teacher=tuple(args.teacher),
        class_map=tuple(args.class_map) if args.class_map else None,
        teacher_classes=tuple(args.teacher_classes) if args.teacher_classes else None,
        teacher_weights=tuple(args.teacher_weight or ()),
        teacher_size=parse_size(args.teacher_size),
        teacher_options=tuple(args.teacher_option or ()),
        losses=tuple(args.loss or DEFAULT_RECIPE),
        pseudo_labels=args.pseudo_labels,
        teacher_cache=str(Path(args.out) / f"cache_{args.name}{_heldout_tag(args)}_{args.size}"),
    )
    return alone, kd


# pass-through options that change the recipe of *both* arms: their values join the run folders
# and the study's recipe label, so such a study never reuses (or replaces) the plain one's runs
RECIPE_EXTRAS = ("cutmix", "color_jitter")


def _extras_tag(extra: dict[str, Any]) -> str:
    return "".join(f"_{name}{extra[name]}" for name in RECIPE_EXTRAS if extra.get(name))


def _is_extra(part: str) -> bool:
    """``+cutmix=0.5`` in a recorded recipe: a change to both arms (its own panel, baseline)."""
    return part.startswith("+") and part[1:].split("=")[0] in RECIPE_EXTRAS


def _extras_label(extra: dict[str, Any]) -> str:
    return "".join(f" +{name}={extra[name]}" for name in RECIPE_EXTRAS if extra.get(name))


def _heldout_tag(args: argparse.Namespace) -> str:
    return f"_without_{args.heldout}" if args.heldout else ""


def main(argv: list[str]) -> int:
    args, extra = parse(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    rows: dict[str, list[dict[str, Any]]] = {"alone": [], "kd": []}
    for seed in args.seeds:
        alone, kd = configs(args, extra, seed)
        # KD first: distill checks the teacher, its options and class maps before any training,
        # so a bad one is refused before the minutes of the "alone" arm, not after them
        for arm, cfg in (("kd", kd), ("alone", alone)):
            if args.arm not in ("both", arm):
                continue
            wall = run_once(cfg)
            rows[arm].append(summarize(cfg.out.name, cfg.out, recipe.command(cfg), wall))
            print(f"{cfg.out.name}: last {rows[arm][-1]['last_miou']:.4f}", flush=True)
    if args.arm != "both":
        return 0
    entry = {
        "protocol": args.protocol,
        "student": args.student,
        "teacher": teacher_label(args),
        "recipe": " ".join(args.loss or DEFAULT_RECIPE)
        + (" +pseudo" * args.pseudo_labels)
        + _extras_label(extra),
        "epochs": args.epochs,
        "size": args.size,
        "seeds": list(args.seeds),
        "alone_miou": [round(100 * r["last_miou"], 2) for r in rows["alone"]],
        "kd_miou": [round(100 * r["last_miou"], 2) for r in rows["kd"]],
    }
    entry["gain"] = round(_mean(entry["kd_miou"]) - _mean(entry["alone_miou"]), 2)
    record(Path(args.results), entry, rows, args)
    print(json.dumps(entry))
    return 0


def teacher_label(args: argparse.Namespace) -> str:
    """The study's teacher as recorded: members, then their options and ensemble weights in
    brackets. The label is part of the study's key, so an ensemble with other per-class weights
    is its own row, not a rerun that replaces the equal-weight one."""
    label = " + ".join(_portable(t) for t in args.teacher)
    label += "".join(f" [{o}]" for o in args.teacher_option or ())
    if args.teacher_weight:
        label += f" [weights {'; '.join(args.teacher_weight)}]"
    return label


def _wrapper_and_path(spec: str) -> tuple[str, str]:
    """``("tta:", path)`` for a wrapping teacher kind, ``("", spec)`` otherwise — the split
    :func:`edgeseg.distill.teachers.build_teacher` makes."""
    kind, colon, path = spec.partition(":")
    return (kind + colon, path) if colon and kind in teacher_kinds() else ("", spec)


def _portable(spec: str) -> str:
    """A teacher path under the shared folder as ``$EDGESEG_SHARED/…``: the same study is the
    same entry on every machine (and on the GPU machine, whose copy lives elsewhere)."""
    wrapper, path = _wrapper_and_path(spec)
    shared = str(shared_root().resolve())
    path = str(Path(path).resolve()) if Path(path).exists() else path
    if not path.startswith(shared + "/"):
        return spec
    return wrapper + "$EDGESEG_SHARED" + path[len(shared) :]


def _short(teacher: str) -> str:
    """Each member's file name (a checkpoint with its run folder: ``teacher_x/last.pt``)."""
    members, bracket, options = teacher.partition(" [")  # teacher options follow the members
    return " + ".join(_short_member(m) for m in members.split(" + ")) + bracket + options


def _short_member(member: str) -> str:
    wrapper, path = _wrapper_and_path(member)  # a wrapper kind such as "tta:" stays
    p = Path(path)
    return wrapper + (f"{p.parent.name}/{p.name}" if p.suffix in (".pt", ".pth") else p.name)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def paired_spread(alone: list[float], kd: list[float]) -> str:
    """`` ± SE``: the standard error of the per-seed gains (KD minus alone, same seed), so a
    reader can tell a gain from the seeds' noise — the arms of one seed share data order and
    initialisation, and their difference varies far less than either arm. Empty for one seed."""
    if len(alone) != len(kd) or len(kd) < 2:
        return ""
    gains = [k - a for a, k in zip(alone, kd, strict=True)]
    return f" ± {statistics.stdev(gains) / len(gains) ** 0.5:.2f}"


def record(results: Path, entry: dict[str, Any], rows: dict, args: argparse.Namespace) -> None:
    """Replace the same study in distill_gains.json, keep its runs for the Markdown, plot."""
    stem = f"distill_gains_heldout_{args.heldout}" if args.heldout else "distill_gains"
    path, runs_path = results / f"{stem}.json", results / f"{stem}_runs.json"
    studies = json.loads(path.read_text())["studies"] if path.is_file() else []
    studies = [s for s in studies if study_key(s) != study_key(entry)] + [entry]
    runs = json.loads(runs_path.read_text()) if runs_path.is_file() else {}
    runs[study_key(entry)] = {"name": args.name, "host": _host(), **rows}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"studies": studies}, indent=1) + "\n")
    with atomic_path(runs_path) as tmp:
        tmp.write_text(json.dumps(runs, indent=1) + "\n")
    md = results / f"{stem}.md"
    text = recipe.with_notes(md, render(studies, runs, args.heldout))
    with atomic_path(md) as tmp:
        tmp.write_text(text)
    where = f"\nscored on drive {args.heldout} (held out of training)" if args.heldout else ""
    curves = protocol_curves(studies, runs, entry["protocol"], Path(args.out), where)
    if curves:
        with atomic_path(results / f"{stem}_{entry['protocol']}.png") as tmp:
            tmp.write_bytes(plot_png(curves, f"drive {args.heldout}" if args.heldout else "val"))


def protocol_curves(
    studies: list[dict], runs: dict, protocol: str, out: Path, where: str = ""
) -> list[tuple[str, str, list[dict]]]:
    """(panel, label, history) of every run of ``protocol``: one panel per size, schedule, CutMix
    and student, so a 60-epoch study's alone arm does not hide the 30-epoch one (same run
    names), and each panel's baseline is drawn once however many teachers were compared with it."""
    curves = []
    for s in (s for s in studies if s["protocol"] == protocol):
        done, panel = runs.get(study_key(s), {}), f"{protocol} {s['size']}, {s['epochs']} epochs"
        panel += "".join(f", {part[1:]}" for part in s["recipe"].split() if _is_extra(part))
        panel += f", {s['student']}" if s["student"] != DEFAULT_STUDENT else ""
        for label, arm in (("alone", "alone"), (done.get("name"), "kd")):
            for i, row in enumerate(done.get(arm, [])):
                curves.append((panel + where, f"{label} s{i}", _history(out, row)))
    return list({(c[0], c[1]): c for c in curves if c[2]}.values())


def study_key(study: dict) -> str:
    """What makes two entries the same study (the key of ``distill_gains_runs.json``)."""
    return "|".join(str(study[k]) for k in STUDY_KEY)


def _history(out: Path, row: dict) -> list[dict]:
    """Scored mIoU per epoch of a run: the curve its record keeps (what that row measured: a
    rerun under the same folder name, e.g. on another host, must not redraw it), else, for an
    older record without one, its history in the run folder named in the command."""
    if row.get("curve"):
        return [{"epoch": e, "miou": m} for e, m in row["curve"]]
    folder = Path(row["command"].split(" --out ")[1].split(" ")[0])
    path = folder / "history.jsonl"
    return scored_epochs(path) if path.is_file() else []


def _host() -> str:
    """Where a study ran, with what sets its floating-point path: the same seed and command are
    bit-identical on one machine, but three 60-epoch "alone" runs rerun in a later session came
    out 27.22 instead of 28.19 — so a row records the CPU and its instruction sets (the kernels
    torch picks), the thread count and numeric libraries too."""
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", CPU only"
    libraries = ", ".join(f"{name} {metadata.version(name)}" for name in ("numpy", "pillow"))
    cpu = host_info()
    return (
        f"{platform.platform()}, {cpu['processor']} ({cpu['cpu_flags']}), "
        f"torch {torch.__version__}, {libraries}, "
        f"{torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs{gpu}"
    )


def _agreement(record: dict) -> str:
    """The cached teacher's IoU against the labels at the training size, for every class with
    labelled pixels (its mean probability on the labelled class, and where the class's pixels
    most often go instead, in brackets): where KD argues with the labels."""
    a = LabelAgreement.from_dict(record)
    per_class = ", ".join(a.describe(c) for c, n in enumerate(a.pixels) if n)
    h, w = a.size
    return f"mIoU {100 * a.miou:.1f} at {h}x{w} over {a.images} images; {per_class}"


def render(studies: list[dict], runs: dict, heldout: str | None = None) -> str:
    split = (
        f"train without drive {heldout} → that drive's {heldout} frames"
        if heldout
        else "train → val"
    )
    lines = [
        f"# Distillation gains on CamVid ({split}, 11 classes, void ignored)",
        "",
        "Written by `python -m benchmarks.studies.distill_gains`; mIoU is the **last epoch's** "
        "score in percent (no checkpoint chosen on it), mean over seeds; gain ± the standard "
        "error of the per-seed gains (KD minus alone on the same seed).",
        "",
        "| protocol | student | teacher | recipe | size | epochs | alone | KD | gain |",
        "|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for s in studies:
        lines.append(
            f"| {s['protocol']} | {s['student']} | {_short(s['teacher'])} | {s['recipe']} | "
            f"{s['size']} | {s['epochs']} | {_mean(s['alone_miou']):.2f} "
            f"({', '.join(map(str, s['alone_miou']))}) | {_mean(s['kd_miou']):.2f} "
            f"({', '.join(map(str, s['kd_miou']))}) | **{s['gain']:+.2f}**"
            f"{paired_spread(s['alone_miou'], s['kd_miou'])} |"
        )
    lines += ["", "## Commands", ""]
    for name, run in runs.items():
        lines.append(f"### {name}\n\nHost: {run['host']}\n")
        for arm in ("alone", "kd"):
            for r in run[arm]:
                lines.append(
                    f"- {r['run']}: last {100 * r['last_miou']:.2f}, best "
                    f"{100 * r['best_miou']:.2f} (epoch {r['best_epoch']}), "
                    f"{r['epoch_seconds']} s/epoch: `{r['command']}`"
                )
        agreement = next(
            (r["teacher_vs_labels"] for r in run["kd"] if r.get("teacher_vs_labels")), None
        )
        if agreement:
            lines.append(f"\nTeacher vs labels (what KD teaches): {_agreement(agreement)}")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    recipe.study_main(main)
    sys.exit(0)
