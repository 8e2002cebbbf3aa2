"""Core ML: ``torch.export`` → ``coremltools.convert`` → an ``.mlpackage`` (a directory).

``none`` keeps fp32 compute, ``fp16`` converts with FLOAT16 compute precision, ``int8`` quantizes
the *weights* linearly (symmetric, per-channel or per-tensor) after conversion: compute stays
float, so the label is ``int8-weights``. The Core ML runtime only exists on macOS: elsewhere the
package is written and parity is reported as skipped.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from converters.base import (
    Converter,
    ExportResult,
    ExportSpec,
    RunFn,
    RuntimeUnavailable,
    register_converter,
)


@register_converter
class Coreml(Converter):
    name = "coreml"
    suffix = ".mlpackage"
    directory = True
    quant_modes = ("none", "fp16", "int8")
    requires = ("coremltools",)
    install_hint = "pip install 'edgeseg[coreml]'"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        import coremltools as ct

        started = time.perf_counter()
        with torch.no_grad():
            program = torch.export.export(model, (example,)).run_decompositions({})
        precision = ct.precision.FLOAT16 if spec.quantize == "fp16" else ct.precision.FLOAT32
        mlmodel = ct.convert(
            program,
            convert_to="mlprogram",
            compute_precision=precision,
            minimum_deployment_target=ct.target.iOS17,
        )
        label = {"none": "fp32", "fp16": "fp16", "int8": "int8-weights"}[spec.quantize]
        if spec.quantize == "int8":
            mlmodel = _quantize_weights(mlmodel, spec.per_channel)
        mlmodel.user_defined_metadata.update(
            {k: v if isinstance(v, str) else str(v) for k, v in spec.metadata.items()}
        )
        mlmodel.user_defined_metadata["quantization"] = label
        mlmodel.save(str(out_path))
        size = sum(f.stat().st_size for f in out_path.rglob("*") if f.is_file())
        notes = ["int8 weights, float compute"] if spec.quantize == "int8" else []
        return ExportResult(self.name, label, out_path, size, time.perf_counter() - started, notes)

    def load(self, path: Path) -> RunFn:
        if not _has_runtime():
            raise RuntimeUnavailable("Core ML runs only on macOS: parity not checked here")
        import coremltools as ct

        mlmodel = ct.models.MLModel(str(path))
        name = mlmodel.get_spec().description.input[0].name

        def run(x: torch.Tensor) -> torch.Tensor:
            outputs = mlmodel.predict({name: x.numpy()})
            return torch.from_numpy(next(iter(outputs.values())))

        return run


def _has_runtime() -> bool:
    try:
        from coremltools import libcoremlpython  # noqa: F401
    except ImportError:
        return False
    return True


def _quantize_weights(mlmodel, per_channel: bool):
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int8",
            granularity="per_channel" if per_channel else "per_tensor",
        )
    )
    return cto.linear_quantize_weights(mlmodel, config=config)
