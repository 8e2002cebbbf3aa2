"""Is this file the one that was written? Checks that sit below every loader.

torch's zip reader never checks the CRCs its zip members carry, so a checkpoint with flipped bits
in its weights loads and evaluates (mIoU 61.6 → 17.0 in the issue that found it).
:func:`zip_problem` reads the members through and :func:`weights_digest` hashes the tensors, so
the checkpoint loader (``edgeseg.checkpoint``) and the ``--weights`` loader
(``edgeseg.models``) refuse the same damage alike.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch


def zip_problem(path: Path) -> str:
    """Why the zip ``path`` is damaged ("" when every member passes its CRC, or when the file
    is not a zip at all: that is left to ``torch.load``)."""
    if not zipfile.is_zipfile(path):
        return ""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        return f"its zip cannot be read: {exc}"
    return f"zip member {bad.split('/', 1)[-1]} fails its CRC" if bad is not None else ""


def weights_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order: what the zip's
    CRCs cannot say — that the tensors read back are the ones that were saved."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{list(tensor.shape)}|".encode())
        if tensor.numel():
            digest.update(_tensor_bytes(tensor))
    return digest.hexdigest()


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    """The tensor's raw bytes; a kind that cannot be viewed as bytes (quantized, sparse) is
    hashed by its values instead."""
    try:
        return tensor.reshape(-1).view(torch.uint8).numpy().tobytes()
    except (RuntimeError, TypeError):
        dense = tensor.dequantize() if tensor.is_quantized else tensor.to_dense()
        return repr(dense.tolist()).encode()


def weights_match(state_dict: Any, expected: str) -> bool:
    """``state_dict`` is a dict of named tensors whose :func:`weights_digest` is ``expected``."""
    ok = isinstance(state_dict, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()
    )
    return ok and weights_digest(state_dict) == expected
