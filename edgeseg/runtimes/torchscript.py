"""TorchScript (PyTorch Mobile's format): ``torch.jit.load``, ``torch.set_num_threads``.

A ``.pt`` may also be an edgeseg checkpoint (the ``pytorch`` runtime's); the two are told apart
by content: a TorchScript archive holds compiled code (``<archive>/code/…`` entries), a
``torch.save`` file does not. edgeseg's export embeds the sidecar as ``extra/edgeseg.json``,
which is where the input size comes from (a TorchScript graph does not state it).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from edgeseg.errors import one_line
from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError

EXTRA = "edgeseg.json"


def zip_entries(path: Path) -> list[str]:
    """Entry names of a PyTorch zip archive; an ArtifactLoadError when it is not one."""
    if not path.is_file():
        raise ArtifactLoadError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactLoadError(f"{path.name} is not a PyTorch zip archive ({exc})") from exc


@register_runtime
class Torchscript(Runtime):
    name = "torchscript"
    formats = (".pt", ".ptl")
    requires = ("torch",)
    hint = "pass a .pt written by edgeseg export --target torchscript"

    def check_file(self, path: Path) -> None:
        if not any("/code/" in n for n in zip_entries(path)):
            raise ArtifactLoadError(f"{path.name} holds no TorchScript code (not torch.jit.save'd)")

    def open(self, path: Path, threads: int) -> Session:
        import torch

        torch.set_num_threads(threads)
        extra = {EXTRA: ""}
        try:
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).eval()
        except RuntimeError as exc:
            reason = one_line(exc, 160, typed=False)
            raise self.refuse(path, f"torch.jit.load failed: {reason}") from exc
        meta = json.loads(extra[EXTRA]) if extra[EXTRA] else None
        size = (meta or {}).get("input_size")
        if not size:
            raise ArtifactLoadError(
                f"{path.name} carries no input size (no sidecar, no embedded "
                "edgeseg.json); re-export it with edgeseg export"
            )
        shape = (1, 3, int(size[0]), int(size[1]))
        dtype = "uint8" if meta.get("input_dtype") == "uint8" else "float32"
        return Session(torch_fn(module), TensorInfo(shape, dtype), meta=meta, handle=module)


def torch_fn(module):
    """numpy in → numpy out through a torch module, without autograd."""
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            y = module(torch.from_numpy(x))
        return (y["out"] if isinstance(y, dict) else y).numpy()

    return run
