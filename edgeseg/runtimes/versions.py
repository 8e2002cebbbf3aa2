"""Which release of its runtime verified an artifact: the sidecar's ``runtime_version``.

``edgeseg export`` checks every artifact in the target's own runtime on this machine (parity).
Recording that runtime's release next to the artifact lets a consumer with its own copy of the
runtime — the Android demo app above all — tell before loading whether it is new enough:
ExecuTorch promises no forward compatibility of ``.pte`` programs, and an ONNX Runtime runs only
opsets up to the one its release implements, so the ONNX file's opset is recorded too.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

# edgeseg runtime name → the Python distribution that is that runtime here
DISTRIBUTIONS = {
    "executorch": "executorch",
    "onnxruntime": "onnxruntime",
    "tflite": "ai-edge-litert",
    "coreml": "coremltools",
    "torchscript": "torch",
    "pytorch": "torch",
}


def library_version(runtime: str) -> str | None:
    """The installed release of ``runtime``'s library, or None when it is not installed."""
    try:
        return importlib.metadata.version(DISTRIBUTIONS[runtime])
    except (KeyError, importlib.metadata.PackageNotFoundError):
        return None


def onnx_opset(path: str | Path) -> int | None:
    """The default-domain (ai.onnx) opset an ONNX file imports; None if unreadable."""
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 — informational: a file onnx cannot read records no opset
        return None
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def runtime_version(runtime: str, artifact: str | Path) -> dict[str, Any] | None:
    """``{"runtime", "version"[, "opset"]}`` for the sidecar; None when the library is absent."""
    version = library_version(runtime)
    if version is None:
        return None
    record: dict[str, Any] = {"runtime": runtime, "version": version}
    if runtime == "onnxruntime":
        opset = onnx_opset(artifact)
        if opset is not None:
            record["opset"] = opset
    return record
