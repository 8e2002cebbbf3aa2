"""The runtime layer: exactly one code path opens each kind of exported file on this host.

``edgeseg.runtimes.load(path, threads)`` → a :class:`Session` (input/output tensor info, the
metadata embedded in the file, ``run``), used alike by the export parity check, the artifact
teachers, ``edgeseg bench`` and the adb reference pass. One module per runtime: ``pytorch``
(edgeseg checkpoints, the eager baseline), ``torchscript``, ``executorch``, ``onnxruntime``,
``tflite`` (LiteRT) and ``coreml`` (macOS only). Importing a module registers it; runtime
libraries are imported only inside ``open``.
"""

from edgeseg.runtimes import (  # noqa: F401  (register)
    coreml,
    executorch,
    onnxruntime,
    pytorch,
    tflite,
    torchscript,
)
from edgeseg.runtimes.base import (
    Runtime,
    Session,
    TensorInfo,
    get_runtime,
    load,
    register_runtime,
    runtime_for,
    runtime_names,
)
from edgeseg.runtimes.errors import (
    ArtifactLoadError,
    RuntimeNotInstalled,
    RuntimeUnavailable,
    ScoresUnavailable,
    TensorNotFound,
)

__all__ = [
    "ArtifactLoadError",
    "Runtime",
    "RuntimeNotInstalled",
    "RuntimeUnavailable",
    "ScoresUnavailable",
    "TensorNotFound",
    "Session",
    "TensorInfo",
    "get_runtime",
    "load",
    "register_runtime",
    "runtime_for",
    "runtime_names",
]
