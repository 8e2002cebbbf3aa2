"""PyTorch eager: an edgeseg checkpoint (``torch.save`` of weights + metadata), the baseline.

Every exported format is compared against this one: same weights, no conversion. The model is
fed exactly as its export would be (float32 NCHW, the checkpoint's mean/std and input size), and
the session's metadata is the sidecar its exports carry, ``source_sha256`` included, so bench
rows of one checkpoint pair up.
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.quantization import QuantLabel
from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError
from edgeseg.runtimes.torchscript import torch_fn, zip_entries


@register_runtime
class Pytorch(Runtime):
    name = "pytorch"
    format_name = "edgeseg checkpoint"
    formats = (".pt", ".pth")
    requires = ("torch",)
    preload = ("torch", "edgeseg.checkpoint", "edgeseg.models")
    hint = "pass a checkpoint written by edgeseg train"

    def check_file(self, path: Path) -> None:
        entries = zip_entries(path)
        if any("/code/" in n for n in entries) or not any(n.endswith("data.pkl") for n in entries):
            raise ArtifactLoadError(f"{path.name} is not a torch.save checkpoint")

    def open(self, path: Path, threads: int) -> Session:
        import torch

        from edgeseg.checkpoint import file_sha256, load_model

        torch.set_num_threads(threads)
        model, meta = load_model(path)  # a CheckpointError says what is wrong, in one line
        h, w = (int(v) for v in meta.input_size)
        sidecar = {
            "arch": meta.arch,
            **meta.float_contract(),
            "quantization": QuantLabel.FP32,
            "source_sha256": file_sha256(path),  # what its exports record: rows pair up
        }
        shape = (1, 3, h, w)
        return Session(torch_fn(model), TensorInfo(shape, "float32"), meta=sidecar, handle=model)
