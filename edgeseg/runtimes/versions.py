"""Which release of its runtime verified an artifact: the sidecar's ``runtime_version``.

``edgeseg export`` checks every artifact in the target's own runtime on this machine (parity).
Recording that runtime's release next to the artifact lets a consumer with its own copy of the
runtime — the Android demo app above all — tell before loading whether it is new enough:
ExecuTorch promises no forward compatibility of ``.pte`` programs, and an ONNX Runtime runs only
opsets up to the one its release implements, so the ONNX file's opset is recorded too; a
``.tflite`` file's own ``min_runtime_version`` metadata (the oldest TensorFlow Lite runtime whose
kernels cover its op versions, written by the converter) is copied for the same reason.
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


def tflite_min_runtime(path: str | Path) -> str | None:
    """The ``min_runtime_version`` metadata a ``.tflite`` file carries ("2.2.0"), if any."""
    try:
        from ai_edge_litert import schema_py_generated as schema

        data = Path(path).read_bytes()
        model = schema.Model.GetRootAsModel(data, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() == b"min_runtime_version":
                raw = model.Buffers(entry.Buffer()).DataAsNumpy()
                text = bytes(raw).split(b"\0", 1)[0].decode("ascii")
                return text if text[:1].isdigit() else None
    except Exception:  # noqa: BLE001 — informational: an unreadable file records nothing
        return None
    return None


def runtime_version(runtime: str, artifact: str | Path) -> dict[str, Any] | None:
    """``{"runtime", "version"[, "opset" | "min_runtime_version"]}`` for the sidecar; None when
    the library is absent."""
    version = library_version(runtime)
    if version is None:
        return None
    record: dict[str, Any] = {"runtime": runtime, "version": version}
    if runtime == "onnxruntime":
        opset = onnx_opset(artifact)
        if opset is not None:
            record["opset"] = opset
    if runtime == "tflite":
        minimum = tflite_min_runtime(artifact)
        if minimum is not None:
            record["min_runtime_version"] = minimum
    return record
