"""The training recipe as one dataclass: what the CLI fills in and what the checkpoint records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeseg.errors import ConfigError
from edgeseg.outputs import check_output_dir
from edgeseg.utils import MAX_SEED, MAX_WORKERS, check_range, check_size

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "poly")
CLASS_WEIGHTS = ("none", "enet", "median_freq", "inverse")


@dataclass
class TrainConfig:
    """Defaults follow the OWLSAM recipe: AdamW, cosine decay after a linear warm-up."""

    arch: str
    data: str
    out: Path = Path("runs/train")
    epochs: int = 30
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    momentum: float = 0.9
    schedule: str = "cosine"
    warmup_epochs: float = 1.0
    size: tuple[int, int] | None = None  # training crop (H, W); None = the dataset's native size
    scale: tuple[float, float] = (0.5, 2.0)
    freeze_backbone_until: int = 0
    class_weights: str = "none"
    aux_weight: float = 0.5
    cutmix: float = 0.0  # chance a training batch gets CutMix boxes (edgeseg.train.cutmix)
    color_jitter: float = 0.0  # photometric distortion strength (data.transforms.ColorJitter)
    bn_momentum: float | None = None  # None: the model's own (0.01 for MobileNetV3/EfficientNet)
    weights: str | None = None
    backbone_weights: str | None = None
    workers: int = 2
    seed: int = 0
    resume: bool = False
    device: str = "auto"
    amp: bool = True  # only ever used on CUDA
    val_every: int = 1
    foreground_only: bool = False  # FSI teacher: train (and validate) on objects only
    background: tuple[str, ...] = ()  # background classes; default: one named "background"
    labels: str | None = None  # label-scarce: the training images that keep their labels
    limit_train_batches: int | None = None
    limit_val_batches: int | None = None
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        checks = [
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"--schedule must be one of {', '.join(SCHEDULES)}"),
            (
                self.class_weights in CLASS_WEIGHTS,
                f"--class-weights must be one of {', '.join(CLASS_WEIGHTS)}",
            ),
            (
                self.bn_momentum is None or 0.0 < self.bn_momentum <= 1.0,
                "--bn-momentum must be in (0, 1], e.g. 0.1",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        self.size = check_size(self.size)  # a 1x1 model trains, then cannot be exported
        if self.labels is not None and not Path(self.labels).is_file():
            raise ConfigError(
                f"--labels {self.labels}: no such file; pass a list of training images"
            )
        self._check_counts()
        self._check_background()
        check_device(self.device)
        for flag, value in (
            ("--weights", self.weights),
            ("--backbone-weights", self.backbone_weights),
        ):
            if value is not None and not str(value).strip():
                raise ConfigError(f"{flag} is empty; pass a file, a URL or a tag (e.g. imagenet)")
        check_output_dir(self.out, "--out")  # before any data is read or epoch run

    def _check_background(self) -> None:
        """Training reads ``background`` only to drop those classes (``foreground_only``)."""
        if self.background and not self.foreground_only:
            raise ConfigError(
                f"--background {','.join(self.background)} names the classes --foreground-only "
                "drops; add --foreground-only, or drop --background"
            )

    def _check_counts(self) -> None:
        """The remaining numeric options, each with its range in the message."""
        check_range("--epochs", self.epochs, 1, whole=True)
        check_range("--batch-size", self.batch_size, 1, whole=True)
        check_range("--freeze-backbone-until", self.freeze_backbone_until, 0, whole=True)
        check_range("--seed", self.seed, 0, MAX_SEED, whole=True)
        check_range("--workers", self.workers, 0, MAX_WORKERS, whole=True)
        check_range("--val-every", self.val_every, 1, whole=True)
        for flag, value in (
            ("--limit-train-batches", self.limit_train_batches),
            ("--limit-val-batches", self.limit_val_batches),
        ):
            if value is not None:
                check_range(flag, value, 1, whole=True)
        check_range("--lr", self.lr, 0, low_open=True)  # finite: inf trains to NaN
        check_range("--warmup-epochs", self.warmup_epochs, 0)  # inf: the rate never leaves 0
        check_range("--weight-decay", self.weight_decay, 0)
        check_range("--aux-weight", self.aux_weight, 0)
        check_range("--cutmix", self.cutmix, 0, 1)
        check_range("--color-jitter", self.color_jitter, 0, 1)

    def as_recipe(self) -> dict[str, Any]:
        """JSON-safe record of the recipe for the checkpoint's metadata."""
        recipe = asdict(self)
        recipe["out"] = str(self.out)
        for key in ("progress", "resume", "limit_train_batches", "limit_val_batches"):
            recipe.pop(key, None)
        return recipe


DEVICES = "auto | cpu | cuda | cuda:N | mps"


def check_device(name: str) -> None:
    """``--device`` names a device torch can train on here: ``cuda`` on a CPU-only build (or a
    machine without the GPU) was an internal error at the first tensor, after the data loaded."""
    import torch

    if name == "auto":
        return
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"--device {name!r} is not a device: {DEVICES}") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"--device {name!r}: edgeseg trains on {DEVICES}")
    if device.type == "cuda":
        build = "" if torch.version.cuda else f", torch {torch.__version__} is a CPU-only build"
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(
                f"--device {name}: no CUDA GPU here{build}; pass --device cpu or auto"
            )
        if device.index is not None and device.index >= count:
            raise ConfigError(
                f"--device {name}: this machine has {count} CUDA GPU(s), 0-{count - 1}"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"--device {name}: MPS (Apple GPU) is not available here; pass cpu or auto"
        )
