"""One-file checkpoints: weights plus the metadata that later travels into every exported artifact.

A checkpoint is a plain dict so that ``torch.load(..., weights_only=True)`` can read it (no pickled
classes): ``{"format": "edgeseg-checkpoint", "format_version": 1, "state_dict": …, "meta": {…},
"train_state": {…} | absent}``. ``meta`` carries architecture, classes, palette, normalisation,
input size, dataset, recipe and edgeseg version; ``train_state`` (optimizer, scheduler, epoch, RNG)
is only in the ``last.pt`` files used by ``--resume``.

Integrity: torch's zip reader does not check the CRCs its own writer records, so a flipped bit in
the weights loads fine and silently costs accuracy. :func:`load_checkpoint` therefore checks every
zip member's CRC, and ``meta.weights_sha256`` (a hash of the tensors, written by
:func:`save_checkpoint`) against the tensors it read; a checkpoint older than that hash gets the
CRC check only.
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
from edgeseg.atomic import atomic_path, native_file
from edgeseg.errors import CheckpointError, one_line
from edgeseg.integrity import weights_digest, weights_match, zip_problem

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
    weights_sha256: str = ""  # weights_digest(state_dict), set by save_checkpoint ("" = older file)
    edgeseg_version: str = edgeseg.__version__
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def float_contract(self, size: tuple[int, int] | None = None) -> dict[str, Any]:
        """The sidecar an fp32 NCHW logits export of this model would carry (at ``size``, else
        its own input size): how the eager model itself is fed and read, by the same
        ``edgeseg.contract`` steps as its artifacts."""
        h, w = (int(v) for v in (size or self.input_size))
        return {
            "classes": list(self.classes),
            "palette": [list(c) for c in self.palette],
            "input_size": [h, w],
            "layout": "NCHW",
            "mean": list(self.mean),
            "std": list(self.std),
            "input_dtype": "float32",
            "output": "logits",
            "output_dtype": "float32",
        }


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
    """Write atomically: an interrupted save never replaces a good checkpoint with a broken one.

    The weights' hash goes into the metadata so that a load can tell a damaged file from a good
    one. torch writes through a Python file object, so a full disk is an ``OSError`` (which
    :func:`~edgeseg.atomic.atomic_path` turns into "no space left"), not a C++ error."""
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dict": state_dict,
        "meta": {**asdict(meta), "weights_sha256": weights_digest(state_dict)},
    }
    if train_state is not None:
        payload["train_state"] = train_state
    path = Path(path)
    with atomic_path(path) as tmp, native_file(tmp) as fh:
        torch.save(payload, fh)
    return path


def check_zip_crcs(path: Path) -> None:
    """Raise a :class:`CheckpointError` if a member of the zip ``path`` fails its CRC (or the
    zip cannot be read through); a file that is not a zip is left to ``torch.load``."""
    why = zip_problem(path)
    if why:
        raise CheckpointError(_corrupt(path, why))


def _corrupt(path: Path, why: str) -> str:
    return (
        f"{path} is corrupt ({why}); restore it from a copy or train it again "
        "(edgeseg train writes a checked checkpoint)"
    )


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate a checkpoint; any problem is one CheckpointError line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"Checkpoint not found: {path} (pass the .pt written by edgeseg train)"
        )
    check_zip_crcs(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint ({one_line(exc, 120, typed=False)}); "
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
    _check_weights(path, payload["state_dict"], meta.weights_sha256)
    return Checkpoint(payload["state_dict"], meta, payload.get("train_state"), path)


def _check_weights(path: Path, state_dict: Any, expected: str) -> None:
    """The tensors read are the tensors saved (when the checkpoint records their hash)."""
    if not expected:
        return  # written before checkpoints carried the hash: the CRC check is all there is
    if not weights_match(state_dict, expected):
        raise CheckpointError(
            _corrupt(path, "its weights do not match the hash recorded when it was saved")
        )


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
