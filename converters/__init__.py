"""Export backends: one module per target (TorchScript, ExecuTorch, ONNX, …) behind one Converter
protocol in ``converters/base.py``. Shipped in the same distribution as ``edgeseg`` so
``import converters`` works after ``pip install edgeseg``. Importing a target module registers it;
toolchains are imported only inside ``convert``. Converters only convert: each names the
:mod:`edgeseg.runtimes` runtime that opens its files (``Converter.runtime``)."""

from edgeseg.converters import coreml, executorch, onnx, tflite, torchscript  # noqa: F401  (register)
from edgeseg.converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    converter_names,
    get_converter,
    register_converter,
    resolve_targets,
)

__all__ = [
    "Converter",
    "ExportResult",
    "ExportSpec",
    "converter_names",
    "get_converter",
    "register_converter",
    "resolve_targets",
]
