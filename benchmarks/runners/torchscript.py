"""TorchScript (PyTorch Mobile's format): ``torch.jit.load``, ``torch.set_num_threads``.

A ``.pt`` may also be an edgeseg checkpoint (the ``pytorch`` runner's); the two are told apart
by content: a TorchScript archive holds compiled code (``<archive>/code/…`` entries), a
``torch.save`` file does not. edgeseg's export embeds the sidecar as ``extra/edgeseg.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from edgeseg.benchmarks.base import BenchError, register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo

EXTRA = "edgeseg.json"


def zip_entries(artifact: Path) -> list[str]:
    """Entry names of a PyTorch zip archive; a BenchError when it is not one."""
    if not artifact.is_file():
        raise BenchError(f"{artifact}: no such file")
    try:
        with zipfile.ZipFile(artifact) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BenchError(f"{artifact.name} is not a PyTorch zip archive ({exc})") from exc


@register_runner
class Torchscript(HostRunner):
    name = "torchscript"
    formats = (".pt", ".ptl")
    requires = ("torch",)
    macs_method = "torch FLOP counter on one forward / 2"

    def check_file(self, artifact: Path) -> None:
        if not any("/code/" in n for n in zip_entries(artifact)):
            raise BenchError(f"{artifact.name} holds no TorchScript code (not torch.jit.save'd)")

    def load(self, artifact: Path, threads: int) -> Session:
        import torch

        torch.set_num_threads(threads)
        extra = {EXTRA: ""}
        try:
            module = torch.jit.load(str(artifact), map_location="cpu", _extra_files=extra).eval()
        except RuntimeError as exc:
            raise BenchError(f"{artifact.name}: torch.jit.load failed ({_first(exc)})") from exc
        meta = json.loads(extra[EXTRA]) if extra[EXTRA] else None
        size = (meta or {}).get("input_size")
        if not size:
            raise BenchError(
                f"{artifact.name} carries no input size (no sidecar, no embedded "
                "edgeseg.json); re-export it with edgeseg export"
            )
        shape = (1, 3, int(size[0]), int(size[1]))
        dtype = "uint8" if meta.get("input_dtype") == "uint8" else "float32"
        return Session(torch_fn(module), TensorInfo(shape, dtype), meta=meta, handle=module)

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        return torch_macs(session.handle, session.input)


def torch_fn(module):
    """numpy in → numpy out through a torch module, without autograd."""
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            y = module(torch.from_numpy(x))
        return (y["out"] if isinstance(y, dict) else y).numpy()

    return run


def torch_macs(module, info: TensorInfo) -> int:
    """torch's FLOP counter over one forward; a MAC is two FLOPs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(info.shape, dtype=getattr(torch, info.dtype))
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
