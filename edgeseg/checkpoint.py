"""One-file checkpoints: weights plus the metadata that later travels into every exported artifact.

A checkpoint is a plain dict so that ``torch.load(..., weights_only=True)`` can read it (no pickled
classes): ``{"format": "edgeseg-checkpoint", "format_version": 1, "state_dict": …, "meta": {…},
"train_state": {…} | absent}``. ``meta`` carries architecture, classes, palette, normalisation,
input size, dataset, recipe and edgeseg version; ``train_state`` (optimizer, scheduler, epoch, RNG)
is only in the ``last.pt`` files used by ``--resume``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import pickle
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

import edgeseg
from edgeseg.atomic import atomic_path
from edgeseg.errors import CheckpointError

FORMAT = "edgeseg-checkpoint"
FORMAT_VERSION = 1


@dataclass
class CheckpointMeta:
    """Everything needed to rebuild, run and label the model without its training data."""

    arch: str
    num_classes: int
    classes: list[str]
    palette: list[list[int]]
    mean: list[float]
    std: list[float]
    input_size: list[int]  # [height, width] the model was trained/evaluated at
    dataset: str = ""
    ignore_index: int = 255
    recipe: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0
    aux_loss: bool = False
    edgeseg_version: str = edgeseg.__version__
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    meta: CheckpointMeta
    train_state: dict[str, Any] | None = None
    path: Path | None = None


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    meta: CheckpointMeta,
    train_state: dict[str, Any] | None = None,
) -> Path:
    """Write atomically: an interrupted save never replaces a good checkpoint with a broken one."""
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": asdict(meta),
    }
    if train_state is not None:
        payload["train_state"] = train_state
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate a checkpoint; any problem is one CheckpointError line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"Checkpoint not found: {path} (pass the .pt written by edgeseg train)"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint ({first[:120]}); "
            "pass a .pt written by edgeseg train"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = (
            "it looks like a bare state_dict — load it with --weights instead"
            if isinstance(payload, dict) and payload and all(isinstance(k, str) for k in payload)
            else "pass a .pt written by edgeseg train"
        )
        raise CheckpointError(f"{path} is not an edgeseg checkpoint: {hint}")
    try:
        meta = CheckpointMeta.from_dict(payload["meta"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} has incomplete edgeseg metadata ({exc})") from exc
    return Checkpoint(payload["state_dict"], meta, payload.get("train_state"), path)


def build_model_from_checkpoint(ckpt: Checkpoint, expected_arch: str | None = None) -> nn.Module:
    """Instantiate ``meta.arch`` and load the weights strictly, in eval mode."""
    from edgeseg.models import create_model

    meta = ckpt.meta
    if expected_arch is not None and expected_arch != meta.arch:
        raise CheckpointError(
            f"{ckpt.path} is a checkpoint of '{meta.arch}', not '{expected_arch}'; "
            f"use --arch {meta.arch} or another checkpoint"
        )
    model = create_model(meta.arch, num_classes=meta.num_classes, aux_loss=meta.aux_loss)
    try:
        model.load_state_dict(ckpt.state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{ckpt.path} does not fit '{meta.arch}': {first}") from exc
    return model.eval()


def load_model(
    path: str | Path, expected_arch: str | None = None
) -> tuple[nn.Module, CheckpointMeta]:
    """Checkpoint path → (eval-mode model, metadata)."""
    ckpt = load_checkpoint(path)
    return build_model_from_checkpoint(ckpt, expected_arch), ckpt.meta


def file_sha256(path: str | Path) -> str:
    """Content hash recorded in exported artifacts so they can be traced back to a checkpoint."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
