"""Core ML: ``coremltools`` predictions on macOS; anywhere else the row is *skipped* with the
reason (the Core ML runtime only exists on Apple platforms), never given a number."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edgeseg.benchmarks.base import BenchError, RunnerUnavailable, register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo


@register_runner
class Coreml(HostRunner):
    name = "coreml"
    formats = (".mlpackage", ".mlmodel")
    requires = ("coremltools",)
    install_hint = "pip install 'edgeseg[coreml]'"

    def check_available(self) -> None:
        if sys.platform != "darwin":
            raise RunnerUnavailable(f"Core ML runs only on macOS (this is {sys.platform})")
        super().check_available()

    def check_file(self, artifact: Path) -> None:
        if not artifact.exists():
            raise BenchError(f"{artifact}: no such file or package")

    def load(self, artifact: Path, threads: int) -> Session:
        import coremltools as ct

        model = ct.models.MLModel(str(artifact), compute_units=ct.ComputeUnit.CPU_ONLY)
        desc = model.get_spec().description
        name = desc.input[0].name
        shape = tuple(int(d) for d in desc.input[0].type.multiArrayType.shape)
        meta = dict(model.user_defined_metadata) or None

        def run(x: np.ndarray) -> np.ndarray:
            return np.asarray(next(iter(model.predict({name: x}).values())))

        notes = [f"Core ML on CPU only; --threads {threads} does not apply"]
        return Session(run, TensorInfo(shape, "float32"), meta=_decode(meta), notes=notes)


def _decode(meta: dict | None) -> dict | None:
    """Core ML metadata values are strings: lists/numbers were written with ``str()``."""
    import ast

    if not meta:
        return None
    out = {}
    for key, value in meta.items():
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out
