"""Quantization modes (what the user asks for) and labels (what an artifact honestly is).

Two vocabularies travel between export, the sidecar, bench and the phone app:

- :class:`QuantMode` — what ``edgeseg export --quantize`` asks for: ``none``, ``fp16``, ``int8``.
  Every converter declares the modes it takes (``Converter.quant_modes``), the parity check keys
  its thresholds on them (``edgeseg.converters.parity.THRESHOLDS``).
- :class:`QuantLabel` — what the written file really is, decided by the converter after looking
  at the graph (``ExportResult.quantize``, the sidecar's ``quantization`` key, bench rows):
  ``fp32``; ``fp16`` (fp16 weights and compute); ``fp16-weights`` (fp16 weights the runtime
  dequantizes, float compute: TFLite); ``int8`` (every compute op integer); ``int8-mixed`` (int8
  with float islands: the reason an int8 file can be slower than fp32); ``int8-weights`` (int8
  weights, float compute: Core ML when W8A8 fails).

Both are ``str``-valued enums: a member *is* its string (``QuantMode.INT8 == "int8"``, same
hash, so ``{"int8": …}[QuantMode.INT8]`` works) and prints, formats and serialises (``json``,
f-strings, rich tables) exactly as the plain string did, so no file, table or name changes. On
Python 3.11+ they are :class:`enum.StrEnum`; 3.10 gets :class:`_StrEnum`, which gives ``str()``
and ``format()`` the value the same way. An unknown value is refused with one line listing the
valid ones (:class:`QuantizationError`, an :class:`~edgeseg.errors.EdgesegError` and a
``ValueError``, so ``QuantMode("int4")`` fails like any enum lookup and the CLI prints one line).

Labels read from outside edgeseg (a hand-written or newer sidecar, a third-party model's
tensors, the phone app's report) go through :func:`read_label`: a known label becomes its member,
an unknown one stays the string it was. Why not refuse or map it: bench measures models edgeseg
did not make and must report what their files say (``w4a16`` is not ``int8`` and is no reason
not to time a model); such values are typed ``QuantLabel | str``.
"""

from __future__ import annotations

import enum
from typing import Any

from edgeseg.errors import ConfigError
from edgeseg.utils import unknown_name_message


class QuantizationError(ConfigError, ValueError):
    """A quantization mode or label that is not one of the known ones."""


class _StrEnum(str, enum.Enum):
    """Python 3.10's stand-in for :class:`enum.StrEnum`: ``str()``/``format()`` give the value
    (a plain ``(str, Enum)`` prints ``QuantMode.INT8``, which would change every table)."""

    __str__ = str.__str__
    __format__ = str.__format__


StrEnum: type[enum.Enum] = getattr(enum, "StrEnum", _StrEnum)


class _Vocabulary(StrEnum):  # type: ignore[misc,valid-type]
    """Shared behaviour: an unknown value is a one-line :class:`QuantizationError`."""

    @classmethod
    def kind(cls) -> str:
        return "quantization"

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The plain strings, in declaration order (for help texts and messages)."""
        return tuple(m.value for m in cls)

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        raise QuantizationError(unknown_name_message(cls.kind(), str(value), cls.values()))


class QuantMode(_Vocabulary):
    """What ``--quantize`` asks for."""

    NONE = "none"
    FP16 = "fp16"
    INT8 = "int8"

    @property
    def label(self) -> QuantLabel:
        """The label a converter gives when nothing falls back (``none`` → ``fp32``); also
        the quantization part of artifact file names (``arch_fp32.onnx``)."""
        return QuantLabel.FP32 if self is QuantMode.NONE else QuantLabel(self.value)


class QuantLabel(_Vocabulary):
    """What an artifact honestly is (see the module docstring for each value)."""

    FP32 = "fp32"
    FP16 = "fp16"
    FP16_WEIGHTS = "fp16-weights"
    INT8 = "int8"
    INT8_MIXED = "int8-mixed"
    INT8_WEIGHTS = "int8-weights"

    @classmethod
    def kind(cls) -> str:
        return "quantization label"


def read_label(value: Any) -> QuantLabel | str | None:
    """A label from outside edgeseg: its member when known, else the value exactly as it came
    (an unknown string, "" or None: see the module docstring for why it is kept, not refused)."""
    if isinstance(value, str) and value in QuantLabel.values():
        return QuantLabel(value)
    return value


def is_int8(label: str | None) -> bool:
    """Whether ``label`` (known or foreign) runs integer kernels: ``int8``, ``int8-mixed``,
    ``int8-weights`` (and a foreign ``int8…``), as the roofline and the plot's markers need."""
    return bool(label) and str(label).startswith("int8")


QUANT_MODES: tuple[QuantMode, ...] = tuple(QuantMode)
QUANT_LABELS: tuple[QuantLabel, ...] = tuple(QuantLabel)
