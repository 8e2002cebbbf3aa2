"""Host runners, one module per runtime; importing this package registers them all:
``pytorch`` (edgeseg checkpoints, the eager baseline), ``torchscript``, ``executorch``,
``onnxruntime``, ``tflite`` (LiteRT) and ``coreml`` (macOS only, skipped elsewhere)."""

from edgeseg.benchmarks.runners import (  # noqa: F401  (register)
    coreml,
    executorch,
    onnxruntime,
    pytorch,
    tflite,
    torchscript,
)
from edgeseg.benchmarks.runners.host import HostRunner, Session, TensorInfo

__all__ = ["HostRunner", "Session", "TensorInfo"]
