"""PyTorch eager: an edgeseg checkpoint (``torch.save`` of weights + metadata), the baseline.

Every exported format is compared against this row: same weights, no conversion. The model is
fed exactly as its export would be (float32 NCHW, the checkpoint's mean/std and input size).
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.benchmarks.base import BenchError, register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo
from edgeseg.benchmarks.runners.torchscript import torch_fn, torch_macs, zip_entries
from edgeseg.quantization import QuantLabel


@register_runner
class Pytorch(HostRunner):
    name = "pytorch"
    formats = (".pt", ".pth")
    requires = ("torch",)
    preload = ("torch", "edgeseg.checkpoint", "edgeseg.models")
    macs_method = "torch FLOP counter on one forward / 2"

    def check_file(self, artifact: Path) -> None:
        entries = zip_entries(artifact)
        if any("/code/" in n for n in entries) or not any(n.endswith("data.pkl") for n in entries):
            raise BenchError(f"{artifact.name} is not a torch.save checkpoint")

    def load(self, artifact: Path, threads: int) -> Session:
        import torch

        from edgeseg.checkpoint import file_sha256, load_model
        from edgeseg.errors import EdgesegError

        torch.set_num_threads(threads)
        try:
            model, meta = load_model(artifact)
        except EdgesegError as exc:
            raise BenchError(str(exc)) from exc
        h, w = (int(v) for v in meta.input_size)
        sidecar = {
            "arch": meta.arch,
            "classes": list(meta.classes),
            "palette": [list(c) for c in meta.palette],
            "input_size": [h, w],
            "layout": "NCHW",
            "mean": list(meta.mean),
            "std": list(meta.std),
            "input_dtype": "float32",
            "output": "logits",
            "output_dtype": "float32",
            "quantization": QuantLabel.FP32,
            "source_sha256": file_sha256(artifact),  # what its exports record: rows pair up
        }
        shape = (1, 3, h, w)
        return Session(torch_fn(model), TensorInfo(shape, "float32"), meta=sidecar, handle=model)

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        return torch_macs(session.handle, session.input)
