"""Core ML: ``coremltools`` predictions on macOS, CPU only. Anywhere else the runtime is
*unavailable* (:class:`~edgeseg.runtimes.errors.RuntimeUnavailable`): the Core ML runtime only
exists on Apple platforms, so export reports parity as skipped and bench a skipped row, never a
number and never a failure.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np

from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError, RuntimeUnavailable


@register_runtime
class Coreml(Runtime):
    name = "coreml"
    formats = (".mlpackage", ".mlmodel")
    requires = ("coremltools",)
    install_hint = "pip install 'edgeseg[coreml]'"
    hint = "pass an .mlpackage written by edgeseg export --target coreml"

    def check_available(self) -> None:
        if sys.platform != "darwin":
            raise RuntimeUnavailable(f"Core ML runs only on macOS (this is {sys.platform})")
        super().check_available()
        try:
            from coremltools import libcoremlpython  # noqa: F401
        except ImportError as exc:
            raise RuntimeUnavailable(
                f"coremltools has no Core ML runtime here ({exc}); reinstall it on macOS"
            ) from exc

    def check_file(self, path: Path) -> None:
        if not path.exists():
            raise ArtifactLoadError(f"{path}: no such file or package")

    def open(self, path: Path, threads: int) -> Session:
        import coremltools as ct

        model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)
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
    if not meta:
        return None
    out = {}
    for key, value in meta.items():
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out
