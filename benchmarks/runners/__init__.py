"""Host runners: one per runtime of :mod:`edgeseg.runtimes`, registered under the runtime's name
when this package is imported: ``pytorch`` (edgeseg checkpoints, the eager baseline),
``torchscript``, ``executorch``, ``onnxruntime``, ``tflite`` (LiteRT) and ``coreml`` (macOS only,
skipped elsewhere). A runtime added there is benched here with no code of its own."""

from edgeseg.benchmarks.base import register_runner
from edgeseg.benchmarks.runners.host import HostRunner, host_runner_class
from edgeseg.runtimes import Session, TensorInfo, runtime_names

for _name in runtime_names():
    register_runner(host_runner_class(_name))

__all__ = ["HostRunner", "Session", "TensorInfo"]
