"""The Converter protocol: what every export target declares and does, and its registry.

A target is one module that subclasses :class:`Converter` and registers itself with
``@register_converter``; ``edgeseg.export`` loops over the registry and never asks which format
it holds. A converter writes exactly one file (to the path it is given: the caller makes the write
atomic) and names the runtime that runs it (``runtime``, a name in :mod:`edgeseg.runtimes`):
converters only convert; opening the file, for the parity check or anything else, is the runtime
layer's job.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from edgeseg.errors import ExportError
from edgeseg.quantization import QUANT_MODES, QuantLabel, QuantMode
from edgeseg.utils import class_registrar, unknown_name_message

INPUT_DTYPES = ("float", "uint8")
OUTPUT_KINDS = ("logits", "mask")
LAYOUTS = ("nchw", "nhwc")
CALIB_IMAGES = 32  # int8 calibration images unless --calib-images says otherwise


@dataclass
class ExportSpec:
    """What to export; the same spec is given to every target of one ``edgeseg export`` call."""

    quantize: QuantMode = QuantMode.NONE  # a plain "int8" is accepted and becomes the member
    size: tuple[int, int] = (512, 512)  # (H, W), fixed: phones want static shapes
    input_dtype: str = "float"  # "uint8": normalisation baked into the graph
    output: str = "logits"  # "mask": argmax baked into the graph, uint8 [N, H, W]
    per_channel: bool = True
    layout: str = "nchw"  # "nhwc": channel-last input and logits (targets that declare it)
    calib_data: str | None = None
    calib_images: int = CALIB_IMAGES
    calibration: list[torch.Tensor] = field(default_factory=list)  # model-ready inputs
    metadata: dict[str, Any] = field(default_factory=dict)  # embedded where the format allows

    def __post_init__(self) -> None:
        for value, valid, what in (
            (self.quantize, QUANT_MODES, "quantization"),
            (self.input_dtype, INPUT_DTYPES, "input dtype"),
            (self.output, OUTPUT_KINDS, "output kind"),
            (self.layout, LAYOUTS, "layout"),
        ):
            if value not in valid:
                raise ExportError(unknown_name_message(what, value, valid))
        self.quantize = QuantMode(self.quantize)


@dataclass
class ExportResult:
    """One written artifact. ``quantize`` is the honest label (``int8`` only if all-integer)."""

    target: str
    quantize: QuantLabel
    path: Path
    bytes: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # sidecar fields the graph decided
    details: list[str] = field(default_factory=list)  # what convert saw, for ``explain``
    cpu_seconds: float | None = None  # process CPU time of the conversion (set by the caller)

    def __post_init__(self) -> None:
        # a converter cannot invent a label: bench, the app and the parity table compare them
        self.quantize = QuantLabel(self.quantize)


class Converter:
    """Base class of every export target.

    Subclasses set ``name`` (= module name), ``suffix``, ``runtime`` (the
    :mod:`edgeseg.runtimes` module that runs their files), ``quant_modes``, ``requires`` (modules
    that must import) and ``install_hint``; they implement ``convert``.
    """

    name: ClassVar[str] = ""
    suffix: ClassVar[str] = ""
    runtime: ClassVar[str] = ""  # edgeseg.runtimes name: what runs the artifact (parity, bench)
    directory: ClassVar[bool] = False  # the artifact is a folder (.mlpackage), not a file
    quant_modes: ClassVar[tuple[QuantMode, ...]] = (QuantMode.NONE,)
    layouts: ClassVar[tuple[str, ...]] = ("nchw",)  # I/O layouts the artifact can take
    requires: ClassVar[tuple[str, ...]] = ()
    # int8 weights land on [-weight_qmax, weight_qmax] per channel; 127 is what XNNPACK, LiteRT
    # and Core ML use. ``prepare_for_int8`` rounds onto this grid and corrects biases for it.
    weight_qmax: ClassVar[int] = 127
    install_hint: ClassVar[str] = ""

    def check_available(self) -> None:
        """Raise ExportError naming the missing module and how to install it."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                raise ExportError(
                    f"{self.name} export needs '{module}', which is not installed: "
                    f"{self.install_hint or 'pip install ' + module}"
                )

    def check_quantize(self, quantize: str | QuantMode) -> None:
        if quantize not in self.quant_modes:
            raise ExportError(
                f"{self.name} does not support --quantize {quantize} "
                f"(supported: {', '.join(self.quant_modes)}){self.quant_hint(quantize)}"
            )

    def check_layout(self, layout: str) -> None:
        if layout not in self.layouts:
            able = [name for name, cls in _CONVERTERS.items() if layout in cls.layouts]
            raise ExportError(
                f"{self.name} does not support --layout {layout} "
                f"(supported: {', '.join(self.layouts)}); targets that do: {', '.join(able)}"
            )

    def quant_hint(self, quantize: str | QuantMode) -> str:
        """Extra words after an unsupported-quantization error; override to point elsewhere."""
        return ""

    def filename(self, arch: str, spec: ExportSpec) -> str:
        """``<arch>_<quant>[_u8in][_mask]<suffix>``: variants never overwrite each other."""
        return f"{arch}_{QuantMode(spec.quantize).label}{variant_tag(spec)}{self.suffix}"

    def convert(
        self, model: nn.Module, example: torch.Tensor, out_path: Path, spec: ExportSpec
    ) -> ExportResult:
        raise NotImplementedError

    def explain(self, result: ExportResult) -> list[str]:
        """Lines saying what ran where in ``result``'s artifact: delegated, quantized, float.

        Why: an int8 file that is slower than fp32 is nearly always float islands or undelegated
        ops; ``edgeseg export --explain`` shows them per target. Targets override this.
        """
        return result.details or ["nothing to explain for this target"]


def op_list(counts: Mapping[str, int]) -> str:
    """ "Conv×3, HardSigmoid×1": an op census as one line (sorted, zero counts left out); the
    form every converter's notes and ``--explain`` use, so they read the same across targets."""
    return ", ".join(f"{op}×{n}" for op, n in sorted(counts.items()) if n)


def census_lines(counts: Mapping[str, tuple[int, int]]) -> list[str]:
    """``--explain`` lines from ``{op: (n_int8, n_float)}``: one "Conv: 12 int8, 0 float" per op,
    then the float ops by name (or that there are none) — what makes an int8 file slow."""
    lines = [f"{op}: {n_int} int8, {n_float} float" for op, (n_int, n_float) in counts.items()]
    floats = sorted(op for op, (_, n_float) in counts.items() if n_float)
    lines.append(f"float ops: {', '.join(floats)}" if floats else "every compute op is int8")
    return lines


def variant_tag(spec: ExportSpec) -> str:
    mask = "_mask" if spec.output == "mask" else ""
    nhwc = "_nhwc" if spec.layout == "nhwc" else ""
    return ("_u8in" if spec.input_dtype == "uint8" else "") + mask + nhwc


_CONVERTERS: dict[str, type[Converter]] = {}


register_converter = class_registrar(_CONVERTERS, "Converter")
"""Class decorator: register a converter under its ``name`` (a second use is an error)."""


def converter_names() -> list[str]:
    return list(_CONVERTERS)


def get_converter(name: str) -> Converter:
    if name not in _CONVERTERS:
        raise ExportError(unknown_name_message("export target", name, [*_CONVERTERS, "all"]))
    return _CONVERTERS[name]()


def resolve_targets(targets: str | Sequence[str], flag: str = "--target") -> list[str]:
    """``"all"`` → every registered target; ``"onnx,torchscript"`` → both; order kept."""
    names = targets.split(",") if isinstance(targets, str) else list(targets)
    names = [n.strip().lower() for n in names if n.strip()]
    if not names:  # "" would export nothing and end as a failed run (exit 3), not bad input
        shown = targets if isinstance(targets, str) else ",".join(targets)
        raise ExportError(
            f"{flag} {shown!r} names no target; pass all or some of {', '.join(converter_names())}"
        )
    if "all" in names:
        return converter_names()
    for name in names:
        get_converter(name)
    return list(dict.fromkeys(names))
